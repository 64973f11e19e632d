#!/usr/bin/env bash
# Installs pgvector into the machine's PostgreSQL from Debian trixie's *source* package
# (bookworm has no pgvector for PostgreSQL 15). Idempotent: does nothing when the
# extension is already available to the server.
set -euo pipefail
PGVER=${PGVER:-$(ls /etc/postgresql | sort -n | tail -1)}
if [ -f "/usr/share/postgresql/${PGVER}/extension/vector.control" ]; then
  echo "pgvector: already installed for PostgreSQL ${PGVER}"; exit 0
fi
SRC=/etc/apt/sources.list.d/trixie-src.sources
if [ ! -f "$SRC" ]; then
  cat > "$SRC" <<EOT
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-${PGVER}" build-essential dpkg-dev >/dev/null
work=$(mktemp -d)
( cd "$work" && apt-get source -qq pgvector >/dev/null 2>&1 || apt-get source pgvector )
dir=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -1)
make -C "$dir" PG_CONFIG="/usr/lib/postgresql/${PGVER}/bin/pg_config" OPTFLAGS="" >/dev/null
make -C "$dir" PG_CONFIG="/usr/lib/postgresql/${PGVER}/bin/pg_config" install >/dev/null
rm -rf "$work"
echo "pgvector: installed for PostgreSQL ${PGVER}"
