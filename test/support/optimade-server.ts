/**
 * An OPTIMADE provider on loopback (node:http) for the import tests and `bench:import`: serves
 * `/v1/structures` from a list of entries in pages (`page_limit`, `page_offset`, `links.next`),
 * `/v1/info/structures` with the units of its `_tst_` properties, and lets a test replace any
 * answer (429, 503, a redirect, a `links.next` to another host). Never a real provider.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FIXTURE_PROVIDER = 'tst';

/** A canned answer: status, headers, and a JSON body (or raw text). */
export interface FixtureAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FixtureRequest {
  /** Path and query as requested. */
  url: string;
  /** `/v1/structures` page offset (NaN for other paths). */
  offset: number;
  /** The filter as received, or null. */
  filter: string | null;
}

export interface OptimadeFixtureServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  baseUrl: string;
  /** host:port for the allow-list. */
  host: string;
  requests: FixtureRequest[];
  close(): Promise<void>;
}

export interface OptimadeFixtureOptions {
  /** The entries, or how to make entry i of `count`. */
  entries: readonly unknown[] | { count: number; make: (i: number) => unknown };
  /** Largest page the server gives, whatever is asked (default 1000). */
  maxPageLimit?: number;
  /**
   * Called for every request with how many requests came before it; an answer replaces the normal
   * one. `links.next` of a normal page is built by `nextUrl` when given.
   */
  intercept?: (request: FixtureRequest, n: number) => FixtureAnswer | undefined;
  nextUrl?: (baseUrl: string, offset: number, limit: number) => string;
}

/** A small cubic Li cell: Li3 M X4 (8 sites, rock-salt positions), varied by i in composition and lattice. */
export function syntheticEntry(i: number, provider = FIXTURE_PROVIDER): Record<string, unknown> {
  const anions = ['F', 'Cl', 'Br', 'I', 'O', 'S', 'Se', 'N'];
  const cations = ['Na', 'K', 'Mg', 'Ca', 'Al', 'Ga', 'Zr', 'Y', 'La', 'Sc'];
  const x = anions[i % anions.length]!;
  const m = cations[Math.floor(i / anions.length) % cations.length]!;
  // 2^10 length steps per Å in the structure hash: 0.002 Å apart are distinct structures.
  const a = 4.2 + 0.002 * Math.floor(i / (anions.length * cations.length));
  const h = a / 2;
  const species = ['Li', 'Li', 'Li', m, x, x, x, x];
  const positions = [
    [0, 0, 0], [0, h, h], [h, 0, h], [h, h, 0],
    [h, h, h], [h, 0, 0], [0, h, 0], [0, 0, h],
  ];
  return {
    id: `${provider}-${i}`,
    type: 'structures',
    attributes: {
      lattice_vectors: [[a, 0, 0], [0, a, 0], [0, 0, a]],
      cartesian_site_positions: positions,
      species_at_sites: species,
      species: [...new Set(species)].map((name) => ({ name, chemical_symbols: [name], concentration: [1] })),
      nsites: 8,
      chemical_formula_reduced: `Li3${m}${x}4`,
      [`_${provider}_band_gap`]: Number(((i % 50) / 10).toFixed(1)),
      [`_${provider}_energy_above_hull`]: Number(((i % 7) / 100).toFixed(2)),
    },
  };
}

function json(res: ServerResponse, answer: FixtureAnswer): void {
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
  res.writeHead(answer.status, { 'content-type': 'application/vnd.api+json', ...answer.headers });
  res.end(text);
}

export async function startOptimadeServer(opts: OptimadeFixtureOptions): Promise<OptimadeFixtureServer> {
  const list = Array.isArray(opts.entries) ? opts.entries : null;
  const generated = Array.isArray(opts.entries) ? null : (opts.entries as { count: number; make: (i: number) => unknown });
  const count = list ? list.length : generated!.count;
  const entryAt = (i: number) => (list ? list[i] : generated!.make(i));
  const requests: FixtureRequest[] = [];
  let baseUrl = '';

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const offset = url.pathname === '/v1/structures' ? Number(url.searchParams.get('page_offset') ?? 0) : NaN;
    const request: FixtureRequest = { url: `${url.pathname}${url.search}`, offset, filter: url.searchParams.get('filter') };
    const n = requests.length;
    requests.push(request);
    const replaced = opts.intercept?.(request, n);
    if (replaced) return json(res, replaced);
    if (url.pathname === '/v1/info/structures') {
      return json(res, {
        status: 200,
        body: {
          data: {
            properties: {
              [`_${FIXTURE_PROVIDER}_band_gap`]: { description: 'band gap', unit: 'eV', type: 'float' },
              [`_${FIXTURE_PROVIDER}_energy_above_hull`]: { description: 'distance to the hull', unit: 'eV/atom', type: 'float' },
            },
          },
          meta: { api_version: '1.1.0', provider: { prefix: FIXTURE_PROVIDER, name: 'loopback fixture' } },
        },
      });
    }
    if (url.pathname !== '/v1/structures') return json(res, { status: 404, body: { errors: [{ status: '404', detail: `no ${url.pathname}` }] } });
    const limit = Math.min(Number(url.searchParams.get('page_limit') ?? 20), opts.maxPageLimit ?? 1000);
    const data: unknown[] = [];
    for (let i = offset; i < Math.min(count, offset + limit); i++) data.push(entryAt(i));
    const nextOffset = offset + limit;
    const next = nextOffset < count ? (opts.nextUrl?.(baseUrl, nextOffset, limit) ?? `${baseUrl}/v1/structures?${new URLSearchParams({ ...(request.filter !== null ? { filter: request.filter } : {}), page_limit: String(limit), page_offset: String(nextOffset) })}`) : null;
    return json(res, {
      status: 200,
      body: {
        data,
        links: { next },
        meta: { api_version: '1.1.0', data_returned: count, more_data_available: next !== null, provider: { prefix: FIXTURE_PROVIDER, name: 'loopback fixture' } },
      },
    });
  };

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      json(res, { status: 500, body: { errors: [{ detail: String(error) }] } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
