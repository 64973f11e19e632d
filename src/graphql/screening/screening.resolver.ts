/**
 * Screening queries (`screen`, `similarMaterials`, `scoreStructure`), `Material.screening` and
 * `Material.similar`, and the fields of the screening types that load data. Resolvers only map
 * arguments to service calls (src/services/screening.ts, the facade of src/screening/).
 */
import { Arg, Args, Ctx, FieldResolver, Float, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../../errors.js';
import type { MaterialRecord } from '../../services/materials.js';
import { checkDomain, type DomainCheck } from '../../services/applicability-domain.js';
import { getModel } from '../../services/models.js';
import {
  nearestFastOfVector,
  scoreComposition,
  scoreStructure,
  screen,
  similarMaterials,
  similarToMaterial,
  type Neighbor,
  type ScreeningResult,
} from '../../services/screening.js';
import type { GraphQLContext } from '../context.js';
import { dependsOn, fastReferenceTags, notCacheable, screeningTags, similarityTags } from '../cache/index.js';
import { LabelFilterValue, MaterialFilterInput, toServiceFilter } from '../material/material.input.js';
import { MaterialType } from '../material/material.type.js';
import { PageArgs, toPage } from '../pagination.js';
import { StructureInput, toServiceStructure } from '../structure/structure.input.js';
import { screeningLoaders } from './screening.loaders.js';
import { ReferenceInput, SimilarMaterialsInput, toServiceReference, toServiceSimilarInput } from './screening.input.js';
import {
  NeighborType,
  ReferenceModeValue,
  ScreeningConnectionType,
  ScreeningEdgeType,
  ScreeningResultType,
} from './screening.type.js';
import type { LabelClassValue } from '../label/label.type.js';

/** Neighbours per candidate when a client does not give k. */
const DEFAULT_NEAREST_FAST = 5;

/** GraphQL Float cannot carry Infinity; the field descriptions document this stand-in. */
function finite(score: number): number {
  return score === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : score;
}

function resultType(result: ScreeningResult): ScreeningResultType & { materialId: string | null; vector: string | null } {
  return {
    modelId: result.modelId,
    score: finite(result.score),
    predictedClass: result.predictedClass as LabelClassValue,
    threshold: result.threshold,
    meanDistanceToFast: result.meanDistanceToFast,
    meanDistanceToPoor: result.meanDistanceToPoor,
    referenceMode: result.reference.mode as ReferenceModeValue,
    materialId: result.materialId,
    vector: result.vector,
  };
}

function neighborTypes(neighbours: readonly Neighbor[]): NeighborType[] {
  return neighbours.map((n) => ({ rank: n.rank, distance: n.distance, materialId: n.materialId, materialRecord: n.material }));
}

async function loadMaterial(ctx: GraphQLContext, materialId: string): Promise<MaterialRecord> {
  const material = await ctx.loaders.materialById.load(materialId);
  // Screening rows reference materials that exist; only a concurrent delete could miss.
  if (!material) throw new NotFoundError('material', materialId);
  return material;
}

@Resolver(() => ScreeningConnectionType)
export class ScreeningResolver {
  @Query(() => ScreeningConnectionType, {
    description:
      'Unlabelled materials ranked by R under a model (the active one by default), most conductor-like first. ' +
      'Scores are stored per model and updated on every label change, so a page is an index read.',
  })
  async screen(
    @Arg('modelId', () => ID, { nullable: true }) modelId: string | null,
    @Arg('filter', () => MaterialFilterInput, { nullable: true, description: 'label may only be UNLABELLED.' })
    filter: MaterialFilterInput | null,
    @Arg('reference', () => ReferenceInput, { nullable: true, description: 'Defaults to mode ALL.' }) reference: ReferenceInput | null,
    @Arg('minScore', () => Float, { nullable: true, description: 'Only candidates with score ≥ minScore.' }) minScore: number | null,
    @Args(() => PageArgs) pageArgs: PageArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ScreeningConnectionType> {
    const { first, after } = toPage(pageArgs);
    const page = await screen(
      ctx.db,
      { modelId, filter: toServiceFilter(filter), reference: toServiceReference(reference), minScore, first, after },
      ctx.loaders.sharedReads,
    );
    // Which candidates there are (and the leftOut count) depends on the materials and their labels too.
    dependsOn(ctx, ...screeningTags(page.modelId), 'material', 'label');
    // The page query read the candidates' material rows: `node` resolves without another query.
    ctx.loaders.primeMaterials(page.items.flatMap((item) => (item.material ? [item.material] : [])));
    return {
      modelId: page.modelId,
      threshold: page.threshold,
      referenceMode: page.reference.mode as ReferenceModeValue,
      referenceK: page.reference.k,
      edges: page.items.map((item, i) => ({
        cursor: page.cursors[i]!,
        rank: item.rank,
        score: finite(item.score),
        predictedClass: item.predictedClass as LabelClassValue,
        meanDistanceToFast: item.meanDistanceToFast,
        meanDistanceToPoor: item.meanDistanceToPoor,
        node: undefined,
        material: item.material,
        materialId: item.materialId,
        modelId: page.modelId,
        model: page.model,
      })),
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: page.hasPreviousPage,
        startCursor: page.startCursor,
        endCursor: page.endCursor,
      },
      page,
    };
  }

  @FieldResolver(() => Int, { description: 'Candidates matching the filter and minScore, over all pages.' })
  totalCount(@Root() connection: ScreeningConnectionType): Promise<number> {
    return connection.page.totalCount();
  }

  @FieldResolver(() => Int, {
    description:
      'Unlabelled materials matching the filter left out of the ranking because they have no embedding under the model ' +
      '(e.g. composition-only materials).',
  })
  leftOut(@Root() connection: ScreeningConnectionType): Promise<number> {
    return connection.page.leftOut();
  }

  @Query(() => [NeighborType], {
    description:
      'The k materials nearest to a stored material or to an uploaded structure (embedded on the fly with the model’s ' +
      'weights), nearest first.',
  })
  async similarMaterials(
    @Arg('input', () => SimilarMaterialsInput) input: SimilarMaterialsInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<NeighborType[]> {
    const { maxSites, maxTextBytes } = ctx.config;
    if (input.structure) notCacheable(ctx);
    const neighbours = await similarMaterials(ctx.db, toServiceSimilarInput(input), { maxSites, maxTextBytes }, {
      onModel: (modelId) => dependsOn(ctx, ...similarityTags(modelId, Boolean(input.label) || Boolean(input.filter))),
      reads: ctx.loaders.sharedReads,
    });
    return neighborTypes(neighbours);
  }

  @Query(() => ScreeningResultType, { description: 'R of a structure that is not stored, against the model’s current references. Stores nothing.' })
  async scoreStructure(
    @Arg('structure', () => StructureInput) structure: StructureInput,
    @Arg('modelId', () => ID, { nullable: true }) modelId: string | null,
    @Arg('reference', () => ReferenceInput, { nullable: true }) reference: ReferenceInput | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ScreeningResultType> {
    const { maxSites, maxTextBytes } = ctx.config;
    const result = await scoreStructure(
      ctx.db,
      { structure: toServiceStructure(structure), modelId, reference: toServiceReference(reference) },
      { maxSites, maxTextBytes },
    );
    return resultType(result);
  }

  @Query(() => ScreeningResultType, {
    description:
      'R of a material known only by its formula (e.g. "Li6PS5Cl", "Li6.4La3Zr1.4Ta0.6O12"), embedded through the model’s composition ' +
      'pathway, against the model’s current references. Stores nothing. BAD_USER_INPUT for an unreadable formula or a model without one.',
  })
  async scoreComposition(
    @Arg('formula', () => String) formula: string,
    @Arg('modelId', () => ID, { nullable: true }) modelId: string | null,
    @Arg('reference', () => ReferenceInput, { nullable: true }) reference: ReferenceInput | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ScreeningResultType> {
    return resultType(await scoreComposition(ctx.db, { formula, modelId, reference: toServiceReference(reference) }));
  }
}

@Resolver(() => ScreeningEdgeType)
export class ScreeningEdgeResolver {
  @FieldResolver(() => MaterialType)
  node(@Root() edge: ScreeningEdgeType, @Ctx() ctx: GraphQLContext): MaterialRecord | Promise<MaterialRecord> {
    // Synchronous when the page query brought the row: 50 nodes then cost no promise round trips.
    return (edge.material as MaterialRecord | undefined) ?? loadMaterial(ctx, edge.materialId);
  }

  @FieldResolver(() => [NeighborType], { description: 'The k nearest FAST references (labelled materials), exact.' })
  async nearestFast(
    @Root() edge: ScreeningEdgeType,
    @Arg('k', () => Int, { defaultValue: DEFAULT_NEAREST_FAST, description: '1–100.' }) k: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<NeighborType[]> {
    dependsOn(ctx, ...fastReferenceTags(edge.modelId));
    const loaders = screeningLoaders(ctx);
    const loader = edge.model ? loaders.nearestFastOfModel(edge.model, k) : loaders.nearestFast(edge.modelId, k);
    return neighborTypes(await loader.load(edge.materialId));
  }
}

/** One domain check per result object, shared by its three fields. */
const domainChecks = new WeakMap<object, Promise<DomainCheck>>();

function domainOf(result: ReturnType<typeof resultType>, ctx: GraphQLContext): Promise<DomainCheck> {
  let check = domainChecks.get(result);
  if (!check) {
    check = (async () => {
      const model = await getModel(ctx.db, result.modelId);
      if (!model?.embeddingDim) throw new NotFoundError('model', result.modelId);
      dependsOn(ctx, ...screeningTags(result.modelId));
      const query = result.materialId !== null ? { materialId: result.materialId } : { vec: result.vector! };
      return checkDomain(ctx.db, { id: model.id, dim: model.embeddingDim, distance: model.distance }, query);
    })();
    domainChecks.set(result, check);
  }
  return check;
}

@Resolver(() => ScreeningResultType)
export class ScreeningResultResolver {
  @FieldResolver(() => Boolean, {
    description:
      'True when the nearest labelled reference is farther than the model’s domain radius (`domainRadius`): the query lies outside ' +
      'the data the model learned from, and its score extrapolates.',
  })
  async outOfDomain(@Root() result: ReturnType<typeof resultType>, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return (await domainOf(result, ctx)).outOfDomain;
  }

  @FieldResolver(() => Float, { nullable: true, description: 'Distance to the nearest labelled reference (itself excluded); null without references.' })
  async nearestReferenceDistance(@Root() result: ReturnType<typeof resultType>, @Ctx() ctx: GraphQLContext): Promise<number | null> {
    return (await domainOf(result, ctx)).nearestReferenceDistance;
  }

  @FieldResolver(() => Float, {
    nullable: true,
    description:
      'The 95th percentile, over the model’s labelled references, of each one’s distance to its nearest other reference; null with fewer than two.',
  })
  async domainRadius(@Root() result: ReturnType<typeof resultType>, @Ctx() ctx: GraphQLContext): Promise<number | null> {
    return (await domainOf(result, ctx)).domainRadius;
  }

  @FieldResolver(() => [NeighborType], { description: 'The k nearest FAST references (labelled materials), exact.' })
  async nearestFast(
    @Root() result: ReturnType<typeof resultType>,
    @Arg('k', () => Int, { defaultValue: DEFAULT_NEAREST_FAST, description: '1–100.' }) k: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<NeighborType[]> {
    dependsOn(ctx, ...fastReferenceTags(result.modelId));
    if (result.materialId !== null) {
      return neighborTypes(await screeningLoaders(ctx).nearestFast(result.modelId, k).load(result.materialId));
    }
    return neighborTypes(await nearestFastOfVector(ctx.db, result.modelId, result.vector!, k));
  }
}

@Resolver(() => NeighborType)
export class NeighborResolver {
  @FieldResolver(() => MaterialType)
  material(@Root() neighbor: NeighborType, @Ctx() ctx: GraphQLContext): MaterialRecord | Promise<MaterialRecord> {
    return (neighbor.materialRecord as MaterialRecord | undefined) ?? loadMaterial(ctx, neighbor.materialId);
  }
}

@Resolver(() => MaterialType)
export class MaterialScreeningResolver {
  @FieldResolver(() => ScreeningResultType, {
    nullable: true,
    description:
      'R of this material under a model (the active one by default). A labelled material gets its leave-self-out score. ' +
      'Null without an embedding under the model.',
  })
  async screening(
    @Root() material: MaterialRecord,
    @Arg('modelId', () => ID, { nullable: true }) modelId: string | null,
    @Arg('reference', () => ReferenceInput, { nullable: true }) reference: ReferenceInput | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ScreeningResultType | null> {
    const result = await screeningLoaders(ctx).screening(modelId, toServiceReference(reference)).load(material.id);
    // Null (no embedding under the model) does not say which model was asked: any model or embedding change.
    if (result) dependsOn(ctx, ...screeningTags(result.modelId));
    else dependsOn(ctx, 'model', 'embedding');
    return result ? resultType(result) : null;
  }

  @FieldResolver(() => [NeighborType], {
    description: 'The k materials nearest to this one under a model (the active one by default); [] without an embedding.',
  })
  async similar(
    @Root() material: MaterialRecord,
    @Arg('k', () => Int, { defaultValue: 10, description: '1–100.' }) k: number,
    @Arg('label', () => LabelFilterValue, { nullable: true }) label: LabelFilterValue | null,
    @Arg('modelId', () => ID, { nullable: true }) modelId: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<NeighborType[]> {
    const onModel = (id: string) => dependsOn(ctx, ...similarityTags(id, Boolean(label)));
    return neighborTypes(await similarToMaterial(ctx.db, material.id, { k, label, modelId, onModel, reads: ctx.loaders.sharedReads }));
  }
}

/** Every resolver class of screening, for `RESOLVERS`. */
export const SCREENING_RESOLVERS = [
  ScreeningResolver,
  ScreeningEdgeResolver,
  ScreeningResultResolver,
  NeighborResolver,
  MaterialScreeningResolver,
] as const;
