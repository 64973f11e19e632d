/**
 * `ionsieve train-default`: trains the shipped default model on the labelled OBELiX structures in
 * the seed folder and writes data/models/default/{artifact.json, manifest.json}
 * (trainer/train-default.ts). src/services/default-model.ts puts that model into a database (the
 * seed and `start` call it) so screening works on first start.
 */
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';

/** Folder of the shipped model inside the seed folder (as DEFAULT_MODEL_DIR in services/models.ts). */
const SHIPPED_MODEL_DIR = 'models/default';

export function registerTrainDefaultCommand(program: Command): Command {
  return program
    .command('train-default')
    .description('train the shipped default model on the seeded OBELiX structures and write data/models/default')
    .option('--seed-dir <dir>', 'folder holding obelix/ (default: $IONSIEVE_SEED_DIR or data)')
    .option('--out <dir>', 'output folder (default: <seed-dir>/models/default)')
    .option('--max-epochs <n>', 'cap the epochs (quick checks; the shipped model uses the default)')
    .option('--held-out <file>', "an `ionsieve evaluate` JSON of this configuration: its grouped-CV figures become the model's held-out estimate and its out-of-fold scores choose the threshold")
    .option('--variant <name>', 'with --held-out: the variant of the evaluate file the product scores by (when several fit the model)')
    .option('--attach-only', 'with --held-out: give the already trained model in --out its figures, without training')
    .action(async (opts: { seedDir?: string; out?: string; maxEpochs?: string; heldOut?: string; variant?: string; attachOnly?: boolean }) => {
      const [{ loadConfig }, { createLogger }, { resolveSeedDir }, { trainDefaultModel, attachHeldOutFigures }] = await Promise.all([
        import('../config.js'),
        import('../logger.js'),
        import('./seed-dir.js'),
        import('../../trainer/train-default.js'),
      ]);
      const config = loadConfig();
      const seedDir = resolveSeedDir(opts.seedDir ?? config.seedDir);
      if (opts.attachOnly) {
        if (!opts.heldOut) throw new InvalidArgumentError('--attach-only needs --held-out FILE');
        const manifest = await attachHeldOutFigures(opts.out ?? join(seedDir, SHIPPED_MODEL_DIR), opts.heldOut, opts.variant);
        const first = Array.isArray(manifest.metrics) ? manifest.metrics[0] : manifest.metrics;
        process.stdout.write(`${first?.label}: ROC-AUC ${first?.rocAuc?.toFixed(3)}; threshold ${manifest.threshold.toFixed(3)}\n`);
        return;
      }
      const maxEpochs = opts.maxEpochs !== undefined ? Number(opts.maxEpochs) : undefined;
      await trainDefaultModel({
        heldOutFile: opts.heldOut,
        heldOutVariant: opts.variant,
        seedDir,
        outDir: opts.out,
        overrides: maxEpochs !== undefined ? { maxEpochs } : undefined,
        logger: createLogger(config),
        command: ['ionsieve', ...process.argv.slice(2)].join(' '),
      });
    });
}
