/**
 * The request mix of `npm run bench:load` (bench/load.ts), kept apart from the orchestration so a
 * test can validate every operation against the schema (test/bench/load-workload.test.ts).
 *
 * Reads, driven by autocannon at a fixed number of connections:
 * - `screen-first`: the first page of the default ranking, with nearestFast and the node;
 * - `screen-next`: a keyset next page, `after` an endCursor seen in an earlier screen response;
 * - `similar`: similarMaterials of a stored material by id (k = 10);
 * - `material`: a material by id with its current label and score.
 * Writes, from a separate client at a fixed rate: labelMaterial; plus one trainModel.
 */

export type ReadKind = 'screen-first' | 'screen-next' | 'similar' | 'material';
export const READ_KINDS: readonly ReadKind[] = ['screen-first', 'screen-next', 'similar', 'material'];

export const SCREEN_QUERY = `query Screen($first: Int!, $after: String) {
  screen(first: $first, after: $after) {
    edges {
      rank score predictedClass
      nearestFast(k: 3) { rank distance material { id formula } }
      node { id formula name label { class } }
    }
    pageInfo { endCursor hasNextPage }
  }
}`;

export const SIMILAR_QUERY = `query Similar($id: ID!) {
  similarMaterials(input: { materialId: $id, k: 10 }) { rank distance material { id formula label { class } } }
}`;

export const MATERIAL_QUERY = `query Material($id: ID!) {
  material(id: $id) { id formula name kind natoms elements label { class conductivity } screening { score predictedClass } }
}`;

export const LABEL_MUTATION = `mutation Label($input: LabelMaterialInput!) {
  labelMaterial(input: $input) { id class material { id } }
}`;

/** Read-your-write check: the candidates with one formula (a labelled material must not be among them). */
export const CANDIDATES_OF_FORMULA_QUERY = `query CandidatesOfFormula($formula: String!, $after: String) {
  screen(first: 200, after: $after, filter: { formula: $formula }) { edges { node { id } } pageInfo { endCursor hasNextPage } }
}`;

export const TRAIN_MUTATION = `mutation Train($input: TrainModelInput!) {
  trainModel(input: $input) { id status }
}`;

export const MODEL_QUERY = `query Model($id: ID!) {
  model(id: $id) { id status error progress { phase epoch maxEpochs } }
}`;

/** A small training configuration: enough work to compete for the CPU, short enough to finish. */
export const BENCH_TRAINING_INPUT = {
  name: 'bench:load (small)',
  k: 4,
  layers: 1,
  featureLength: 16,
  denseLength: 16,
  embeddingDim: 8,
  maxEpochs: 3,
  batchSize: 32,
  evaluation: 'NONE',
} as const;

/** Relative weights of the read kinds, e.g. parsed from "screen-first:1,screen-next:1,similar:1,material:1". */
export type Mix = Record<ReadKind, number>;

export function parseMix(text: string): Mix {
  const mix: Mix = { 'screen-first': 0, 'screen-next': 0, similar: 0, material: 0 };
  for (const part of text.split(',')) {
    const [name, weight] = part.split(':');
    if (!READ_KINDS.includes(name as ReadKind)) throw new Error(`--mix: unknown kind "${name}" (known: ${READ_KINDS.join(', ')})`);
    const w = Number(weight ?? '1');
    if (!Number.isFinite(w) || w < 0) throw new Error(`--mix: weight of ${name} must be a number ≥ 0`);
    mix[name as ReadKind] = w;
  }
  if (READ_KINDS.every((k) => mix[k] === 0)) throw new Error('--mix: every weight is 0');
  return mix;
}

export interface WorkloadIds {
  /** Materials with an embedding under the active model (similarMaterials). */
  embedded: readonly string[];
  /** Any stored material (material by id). */
  all: readonly string[];
}

export interface GraphQLRequest {
  kind: ReadKind;
  body: string;
}

/** Picks read requests: kind by weight, ids uniformly from the store, cursors from a ring of recent endCursors. */
export class ReadWorkload {
  readonly #kinds: ReadKind[] = [];
  readonly #cumulative: number[] = [];
  readonly #total: number;
  readonly #cursors: string[] = [];
  #cursorNext = 0;

  constructor(
    private readonly ids: WorkloadIds,
    mix: Mix,
    private readonly pageSize: number,
    private readonly random: () => number = Math.random,
    private readonly cursorRing = 256,
  ) {
    let sum = 0;
    for (const kind of READ_KINDS) {
      if (mix[kind] <= 0) continue;
      sum += mix[kind];
      this.#kinds.push(kind);
      this.#cumulative.push(sum);
    }
    this.#total = sum;
    if (ids.embedded.length === 0 || ids.all.length === 0) throw new Error('the workload needs stored materials with embeddings');
  }

  /** Remembers the endCursor of a screen response (raw body), for later next-page requests. */
  noteScreenResponse(body: string): void {
    const match = /"endCursor":"([^"]+)"/.exec(body);
    if (!match) return;
    if (this.#cursors.length < this.cursorRing) this.#cursors.push(match[1]!);
    else this.#cursors[this.#cursorNext++ % this.cursorRing] = match[1]!;
  }

  get cursorsSeen(): number {
    return this.#cursors.length;
  }

  next(): GraphQLRequest {
    const r = this.random() * this.#total;
    let kind = this.#kinds[this.#kinds.length - 1]!;
    for (let i = 0; i < this.#kinds.length; i++) {
      if (r < this.#cumulative[i]!) {
        kind = this.#kinds[i]!;
        break;
      }
    }
    return { kind, body: this.body(kind) };
  }

  body(kind: ReadKind): string {
    const pick = (list: readonly string[]) => list[Math.floor(this.random() * list.length)]!;
    switch (kind) {
      case 'screen-first':
        return JSON.stringify({ query: SCREEN_QUERY, variables: { first: this.pageSize } });
      case 'screen-next': {
        // Before any screen response arrived, a next page is a first page.
        const after = this.#cursors.length > 0 ? pick(this.#cursors) : null;
        return JSON.stringify({ query: SCREEN_QUERY, variables: { first: this.pageSize, after } });
      }
      case 'similar':
        return JSON.stringify({ query: SIMILAR_QUERY, variables: { id: pick(this.ids.embedded) } });
      case 'material':
        return JSON.stringify({ query: MATERIAL_QUERY, variables: { id: pick(this.ids.all) } });
    }
  }
}

/**
 * True when a GraphQL response body carries errors. A JSON key `"errors":` cannot occur inside a
 * string value (quotes are escaped there) and no field of the schema is named `errors`, so the
 * substring test is exact and cheap enough to run on every response.
 */
export function hasGraphQLErrors(body: string): boolean {
  return body.includes('"errors":');
}

/** Percentiles of a sample in ms (nearest rank). */
export function percentiles(samples: readonly number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: sorted.length, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(sorted.at(-1) ?? Number.NaN) };
}
