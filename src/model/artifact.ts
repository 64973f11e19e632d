/**
 * Portable model artifact: plain JSON with base64 little-endian float32 weights, the
 * hyperparameters, the element-table hash, the backbone version and the backend that trained it.
 * A model trained on one backend (tfjs-node, wasm) loads on any other.
 */
import { BadInputError } from '../errors.js';
import { elementTableHash } from '../features/element-table.js';
import { backboneVersion, createModel, parameterLayout, type KnagcnModel } from './backbone.js';
import { resolveStoredHyperparameters, type Hyperparameters } from './hyperparameters.js';

export const ARTIFACT_FORMAT = 'ionsieve-knagcn-artifact/1';

export interface ModelArtifact {
  format: typeof ARTIFACT_FORMAT;
  backboneVersion: string;
  elementTableHash: string;
  trainedOnBackend: string | null;
  hyperparameters: Hyperparameters;
  /** name → { shape, base64 of Float32 little-endian data } in parameterLayout order. */
  weights: { name: string; shape: number[]; data: string }[];
}

function toBase64(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i]!, i * 4);
  return bytes.toString('base64');
}

function fromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new BadInputError('artifact weight data is not a float32 array');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/** Serialises a model (reads the weights back from the backend). */
export function saveArtifact(model: KnagcnModel): ModelArtifact {
  const weights = parameterLayout(model.hyperparameters).map((p) => {
    const v = model.trainable.get(p.name) ?? model.state.get(p.name)!;
    return { name: p.name, shape: p.shape, data: toBase64(v.dataSync() as Float32Array) };
  });
  return {
    format: ARTIFACT_FORMAT,
    backboneVersion: model.info.backboneVersion,
    elementTableHash: model.info.elementTableHash,
    trainedOnBackend: model.info.trainedOnBackend ?? null,
    hyperparameters: model.hyperparameters,
    weights,
  };
}

/**
 * Rebuilds a model on the current backend. Refuses (BadInputError) an artifact of another format,
 * backbone version or element table: its weights would silently mean something else.
 */
export function loadModel(artifact: ModelArtifact): KnagcnModel {
  if (!artifact || artifact.format !== ARTIFACT_FORMAT) throw new BadInputError(`not an ionsieve model artifact (format ${artifact?.format})`);
  const h = resolveStoredHyperparameters(artifact.hyperparameters);
  if (artifact.backboneVersion !== backboneVersion(h)) {
    throw new BadInputError(`artifact backbone ${artifact.backboneVersion} does not match this build (${backboneVersion(h)})`);
  }
  if (artifact.elementTableHash !== elementTableHash()) {
    throw new BadInputError('artifact was trained with another element table (hash mismatch)');
  }
  const layout = parameterLayout(h);
  const values = new Map(artifact.weights.map((w) => [w.name, fromBase64(w.data)]));
  for (const p of layout) {
    if (!values.has(p.name)) throw new BadInputError(`artifact lacks parameter ${p.name}`);
  }
  return createModel(h, values, { trainedOnBackend: artifact.trainedOnBackend ?? undefined });
}
