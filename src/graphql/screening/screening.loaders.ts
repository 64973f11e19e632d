/**
 * Per-request DataLoaders of the screening fields (`nearestFast` of every edge of a page,
 * `Material.screening` of every material of a list): one SQL statement per page instead of one per
 * row. Kept beside the resolvers, keyed by the request's context object, so they live and die with
 * the request exactly like `ctx.loaders`.
 */
import DataLoader from 'dataloader';
import {
  nearestFastForModel,
  nearestFastOfMaterials,
  screeningOfMaterials,
  type Neighbor,
  type ReferenceSpec,
  type ScreeningModel,
  type ScreeningResult,
} from '../../services/screening.js';
import type { GraphQLContext } from '../context.js';

export interface ScreeningLoaders {
  /** k nearest FAST references of stored materials, per (model, k). */
  nearestFast(modelId: string | null, k: number): DataLoader<string, Neighbor[]>;
  /** The same for a model already resolved (a screen page's): saves looking the model up again. */
  nearestFastOfModel(model: ScreeningModel, k: number): DataLoader<string, Neighbor[]>;
  /** Material.screening, per (model, reference). */
  screening(modelId: string | null, reference: ReferenceSpec | null): DataLoader<string, ScreeningResult | null>;
}

const perRequest = new WeakMap<GraphQLContext, ScreeningLoaders>();

export function screeningLoaders(ctx: GraphQLContext): ScreeningLoaders {
  let loaders = perRequest.get(ctx);
  if (loaders) return loaders;
  const nearest = new Map<string, DataLoader<string, Neighbor[]>>();
  const screening = new Map<string, DataLoader<string, ScreeningResult | null>>();
  loaders = {
    nearestFast(modelId, k) {
      const key = `${modelId ?? ''}|${k}`;
      let loader = nearest.get(key);
      if (!loader) {
        loader = new DataLoader((ids) => nearestFastOfMaterials(ctx.db, modelId, ids, k, ctx.loaders.sharedReads), { name: `nearestFast:${key}` });
        nearest.set(key, loader);
      }
      return loader;
    },
    nearestFastOfModel(model, k) {
      const key = `model ${model.id}|${k}`;
      let loader = nearest.get(key);
      if (!loader) {
        loader = new DataLoader((ids) => nearestFastForModel(ctx.db, model, ids, k, ctx.loaders.sharedReads), { name: `nearestFast:${key}` });
        nearest.set(key, loader);
      }
      return loader;
    },
    screening(modelId, reference) {
      const key = `${modelId ?? ''}|${reference?.mode ?? 'ALL'}|${reference?.k ?? ''}`;
      let loader = screening.get(key);
      if (!loader) {
        loader = new DataLoader((ids) => screeningOfMaterials(ctx.db, { modelId, reference }, ids, ctx.loaders.sharedReads), { name: `screening:${key}` });
        screening.set(key, loader);
      }
      return loader;
    },
  };
  perRequest.set(ctx, loaders);
  return loaders;
}
