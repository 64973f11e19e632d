#!/usr/bin/env -S node --import tsx
/** Entry point of the `ionsieve` CLI (bin/ionsieve.js, `npm start`, `npm run ionsieve -- …`). */
import { DomainError } from '../errors.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  // Domain errors are the user's to fix: one line, no stack. Anything else is a bug: full stack.
  if (error instanceof DomainError) process.stderr.write(`ionsieve: ${error.message}\n`);
  else process.stderr.write(`ionsieve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
