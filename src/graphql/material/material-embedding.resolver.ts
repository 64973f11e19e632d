/**
 * `Material.embedding(modelId)`: the learned vector of a material, for maps of the embedding space
 * (the dashboard's PCA plot). One SQL statement per page through a per-request DataLoader.
 */
import DataLoader from 'dataloader';
import { Arg, Ctx, FieldResolver, Float, ID, Resolver, Root } from 'type-graphql';
import { embeddingsOfMaterials } from '../../services/embeddings.js';
import type { MaterialRecord } from '../../services/materials.js';
import type { GraphQLContext } from '../context.js';
import { MaterialType } from './material.type.js';

const perRequest = new WeakMap<GraphQLContext, Map<string, DataLoader<string, Float32Array | null>>>();

function embeddingLoader(ctx: GraphQLContext, modelId: string | null): DataLoader<string, Float32Array | null> {
  let byModel = perRequest.get(ctx);
  if (!byModel) perRequest.set(ctx, (byModel = new Map()));
  const key = modelId ?? '';
  let loader = byModel.get(key);
  if (!loader) {
    loader = new DataLoader((ids) => embeddingsOfMaterials(ctx.db, modelId, ids), { name: `embedding:${key}` });
    byModel.set(key, loader);
  }
  return loader;
}

@Resolver(() => MaterialType)
export class MaterialEmbeddingResolver {
  @FieldResolver(() => [Float], {
    nullable: true,
    description: 'The embedding of this material under a model (the active one by default); null without one.',
  })
  async embedding(
    @Root() material: MaterialRecord,
    @Arg('modelId', () => ID, { nullable: true }) modelId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<number[] | null> {
    const vector = await embeddingLoader(ctx, modelId).load(material.id);
    return vector ? Array.from(vector) : null;
  }
}
