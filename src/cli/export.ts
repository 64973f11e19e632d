/**
 * `ionsieve export`: write stored structures as CIF or JSON (OPTIMADE attributes plus our
 * metadata), one file per material into a folder, or all to stdout (`--out -`: CIF blocks, or one
 * JSON object per line). Composition-only materials have no structure and are skipped.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { Option, type Command } from 'commander';
import type { MaterialFilter, MaterialRecord } from '../services/materials.js';
import type { Db } from '../store/database.js';
import { structureToCif, structureToJson } from '../structure/index.js';
import { withCliContext, type DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';

const PAGE_SIZE = 500;

export type ExportFormat = 'cif' | 'json';

interface ExportCommandOptions extends DatabaseCommandOptions {
  format: ExportFormat;
  label?: MaterialFilter['label'];
  out: string;
}

/** File-name-safe stem: id plus reduced formula, e.g. "42-Li7La3Zr2O12". */
function fileStem(m: MaterialRecord): string {
  return `${m.id}-${m.reducedFormula.replace(/[^A-Za-z0-9.]/g, '_')}`;
}

export function renderMaterial(m: MaterialRecord, format: ExportFormat): string {
  if (format === 'cif') return structureToCif(m.structure!, fileStem(m));
  const record = {
    id: m.id,
    name: m.name,
    source: m.source,
    source_id: m.sourceId,
    source_url: m.sourceUrl,
    formula: m.formula,
    reduced_formula: m.reducedFormula,
    label: m.currentLabelClass,
    ...structureToJson(m.structure!),
  };
  return JSON.stringify(record);
}

/** Pages through every material matching the filter (keyset, so a large table is never held). */
export async function* eachMaterial(db: Db, filter: MaterialFilter): AsyncGenerator<MaterialRecord> {
  const { listMaterials } = await import('../services/materials.js');
  let after: string | null = null;
  for (;;) {
    const page = await listMaterials(db, filter, { first: PAGE_SIZE, after });
    yield* page.items;
    if (!page.hasNextPage) return;
    after = page.endCursor;
  }
}

export function registerExportCommand(program: Command): Command {
  return withDatabaseOptions(
    program
      .command('export')
      .description('export stored structures as CIF or JSON')
      .addOption(new Option('--format <format>', 'output format').choices(['cif', 'json']).default('cif'))
      .addOption(new Option('--label <label>', 'only materials whose current label is this').choices(['FAST', 'POOR', 'UNLABELLED']))
      .option('--out <dir|->', 'folder to write one file per material into, or - for stdout', '-'),
  ).action(async (opts: ExportCommandOptions) => {
    await withCliContext(opts, async ({ db, logger }) => {
      const filter: MaterialFilter = opts.label ? { label: opts.label } : {};
      const toStdout = opts.out === '-';
      if (!toStdout) await mkdir(opts.out, { recursive: true });
      const stdout = toStdout ? process.stdout : undefined;
      let written = 0;
      let skipped = 0;
      for await (const material of eachMaterial(db, filter)) {
        if (!material.structure) {
          skipped++;
          continue;
        }
        const text = renderMaterial(material, opts.format);
        if (stdout) {
          const separator = opts.format === 'json' ? '\n' : written > 0 ? '\n' : '';
          const chunk = opts.format === 'json' ? `${text}${separator}` : `${separator}${text}`;
          if (!stdout.write(chunk)) await once(stdout, 'drain');
        } else {
          await writeFile(join(opts.out, `${fileStem(material)}.${opts.format}`), text.endsWith('\n') ? text : `${text}\n`);
        }
        written++;
      }
      logger.info({ written, skippedCompositions: skipped, format: opts.format, out: opts.out }, 'export done');
    });
  });
}
