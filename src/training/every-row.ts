/**
 * Crystal graphs for every labelled material a model can learn from: a structure through the graph
 * network; a material known only by its formula through the composition pathway (models that read
 * compositions, hyperparameters.ts `readsCompositions`); and, with `compositionViews`, a
 * composition-only copy of each structure so that the composition pathway learns from every label.
 */
import { BadInputError } from '../errors.js';
import { buildCrystalGraph, compositionOnlyGraph, type CrystalGraph } from '../graph/index.js';
import { graphOptions, readsCompositions, type Hyperparameters } from '../model/hyperparameters.js';
import { parseComposition, type Structure } from '../structure/index.js';
import type { BinaryLabel } from './metrics.js';

export interface MaterialInput {
  structure: Structure | null;
  /** The formula (used when there is no structure, and for composition views). */
  formula: string;
}

/** The graph a model embeds a material by (BadInputError for a formula-only material the model cannot read). */
export function graphOfMaterial(material: MaterialInput, h: Hyperparameters): CrystalGraph {
  if (material.structure) return buildCrystalGraph(material.structure, graphOptions(h));
  if (!readsCompositions(h)) throw new BadInputError(`this model embeds structures only; "${material.formula}" has none`);
  return compositionOnlyGraph(parseComposition(material.formula).amounts, h.k);
}

/** Which materials the model learns from: all with a structure, and the formula-only ones where it reads compositions. */
export function usableForTraining(material: MaterialInput, h: Hyperparameters): boolean {
  return material.structure !== null || readsCompositions(h);
}

export interface TrainingGraphs {
  /** One graph per material, in input order (what the model is calibrated and embedded on)… */
  graphs: CrystalGraph[];
  /** …then the composition views: the graphs and labels fit sees. */
  fitGraphs: CrystalGraph[];
  fitLabels: BinaryLabel[];
}

/** Graphs of the materials and the training set fit sees; yields to the event loop now and then. */
export async function trainingGraphs(
  materials: readonly MaterialInput[],
  labels: readonly BinaryLabel[],
  h: Hyperparameters,
  signal?: AbortSignal,
): Promise<TrainingGraphs> {
  const graphs: CrystalGraph[] = [];
  let lastYield = performance.now();
  for (const m of materials) {
    graphs.push(graphOfMaterial(m, h));
    if (performance.now() - lastYield > 200) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
      lastYield = performance.now();
    }
  }
  const fitGraphs = [...graphs];
  const fitLabels = [...labels];
  if (h.compositionViews) {
    materials.forEach((m, i) => {
      if (!m.structure) return;
      fitGraphs.push(compositionOnlyGraph(parseComposition(m.formula).amounts, h.k));
      fitLabels.push(labels[i]!);
    });
  }
  return { graphs, fitGraphs, fitLabels };
}
