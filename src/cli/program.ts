/** The `ionsieve` command tree (commander); main.ts runs it. One file per command. */
import { Command } from 'commander';
import { registerEvaluateCommand, registerEvaluateMergeCommand } from './evaluate.js';
import { registerExportCommand } from './export.js';
import { registerImportCommand } from './import.js';
import { registerMigrateCommand } from './migrate.js';
import { registerScreenCommand } from './screen.js';
import { registerSeedCommand } from './seed.js';
import { registerServeCommands } from './serve.js';
import { registerTokenCommand } from './token.js';
import { registerTrainDefaultCommand } from './train-default.js';
import { registerTrainerCommand } from './trainer.js';

export function buildProgram(): Command {
  const program = new Command('ionsieve')
    .description('find lithium super-ionic conductors among crystal structures')
    .showHelpAfterError();
  registerMigrateCommand(program);
  registerSeedCommand(program);
  registerImportCommand(program);
  registerExportCommand(program);
  registerServeCommands(program);
  registerEvaluateCommand(program);
  registerEvaluateMergeCommand(program);
  registerScreenCommand(program);
  registerTrainerCommand(program);
  registerTrainDefaultCommand(program);
  registerTokenCommand(program);
  program
    .command('schema')
    .description('write the GraphQL SDL to schema/schema.graphql')
    .argument('[path]', 'output file')
    .action(async (path?: string) => {
      const { emitSchema } = await import('../graphql/emit-schema.js');
      process.stderr.write(`wrote ${await emitSchema(path)}\n`);
    });
  return program;
}
