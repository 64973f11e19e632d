/**
 * Worker side of the fuzz sandbox (sandbox.ts): parses one input per message and replies with the
 * outcome and the CPU time it took. Running in a worker lets the test end an input that hangs.
 */
import { parentPort } from 'node:worker_threads';
import { BadInputError, StructureParseError } from '../../src/errors.js';
import { buildCrystalGraph } from '../../src/graph/index.js';
import { compositionMaterialRow, structureTextMaterialRow } from '../../src/services/material-rows.js';
import type { Structure } from '../../src/structure/index.js';
import type { SandboxOutcome, SandboxReply, SandboxRequest, ThrownError } from './sandbox.js';

function describeThrown(error: unknown): ThrownError {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error), badInput: false, parseError: false };
  return {
    name: error.name,
    message: error.message,
    stack: error.stack?.split('\n').slice(0, 8).join('\n'),
    badInput: error instanceof BadInputError,
    parseError: error instanceof StructureParseError,
    code: error instanceof BadInputError ? error.code : undefined,
    format: error instanceof StructureParseError ? error.format : undefined,
    line: error instanceof StructureParseError ? error.line : undefined,
  };
}

/** The paper's k (and the shipped model's). */
const GRAPH_K = 12;

parentPort!.on('message', (request: SandboxRequest) => {
  const start = process.cpuUsage();
  let outcome: SandboxOutcome;
  try {
    // What addMaterials does per input: limits, parse, validate, facts and hash.
    const row =
      request.kind === 'structure'
        ? structureTextMaterialRow(request.text, request.format, request.limits)
        : compositionMaterialRow(request.text);
    outcome = { outcome: 'ok', row };
  } catch (error) {
    outcome = { outcome: 'threw', error: describeThrown(error) };
  }
  const used = process.cpuUsage(start);
  if (outcome.outcome === 'ok' && request.kind === 'structure') {
    // An accepted structure must also survive embedding (similarMaterials, the embed job): a graph
    // or BadInputError. Not part of the timed work: a 2,000-site graph is legitimately slower.
    try {
      buildCrystalGraph(JSON.parse(String(outcome.row.structure)) as Structure, { k: GRAPH_K });
    } catch (error) {
      outcome.graphError = describeThrown(error);
    }
  }
  parentPort!.postMessage({ id: request.id, ...outcome, cpuMs: (used.user + used.system) / 1000 } satisfies SandboxReply);
});
