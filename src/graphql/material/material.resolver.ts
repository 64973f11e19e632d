/**
 * Material queries and mutations, and the Material fields computed from the structure or loaded
 * through the per-request DataLoaders. Resolvers only map arguments to service calls.
 */
import { Arg, Args, Authorized, Ctx, FieldResolver, Float, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { queueEmbeddingOfNewMaterials } from '../../services/embedding-jobs.js';
import { addMaterials, getMaterial, listMaterials, type LabelRecord, type MaterialRecord } from '../../services/materials.js';
import { setMaterialProperties } from '../../services/properties.js';
import { deleteMaterial, restoreMaterial, retireMaterial } from '../../services/retirement.js';
import { fracToCart, latticeParameters, structureToCif, structureToJson } from '../../structure/index.js';
import { createdByOf, type Role } from '../../services/tokens.js';
import type { GraphQLContext } from '../context.js';
import { dependsOn } from '../cache/index.js';
import { structureOf } from '../loaders.js';
import { LabelType } from '../label/label.type.js';
import { connectionType, PageArgs, toConnection, toPage, type Connection } from '../pagination.js';
import { JSONScalar } from '../scalars.js';
import { LatticeType, SiteType } from '../structure/structure.type.js';
import { AddMaterialInput, MaterialFilterInput, PropertyInputType, toServiceAddMaterialInput, toServiceFilter } from './material.input.js';
import { MaterialPropertyType, MaterialType, OxidationStateType } from './material.type.js';

@ObjectType('MaterialConnection')
export class MaterialConnection extends connectionType('Material', MaterialType) {}

/** Retraction rows are bookkeeping: the API shows only labels (a retracted one has `retracted: true`). */
export function withoutRetractionRows(labels: readonly LabelRecord[]): LabelRecord[] {
  return labels.filter((label) => label.class !== null);
}

/** -0.16666… → "-1/6", 2.6666… → "8/3", 1 → "1" (averages are totals over at most a few hundred atoms). */
export function fractionText(x: number): string {
  for (let q = 1; q <= 1000; q++) {
    const p = Math.round(x * q);
    if (Math.abs(p / q - x) < 1e-9) return q === 1 ? String(p) : `${p}/${q}`;
  }
  return String(x);
}

@Resolver(() => MaterialType)
export class MaterialResolver {
  @Query(() => MaterialConnection, {
    description: 'Materials matching `filter`, in the order they were added, one page at a time.',
  })
  async materials(
    @Arg('filter', () => MaterialFilterInput, { nullable: true }) filter: MaterialFilterInput | null,
    @Args(() => PageArgs) pageArgs: PageArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<MaterialRecord>> {
    const result = await listMaterials(ctx.db, toServiceFilter(filter), toPage(pageArgs));
    ctx.loaders.primeMaterials(result.items);
    return toConnection(result);
  }

  @Query(() => MaterialType, { nullable: true, description: 'The material with this id, or null when there is none.' })
  material(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<MaterialRecord | null> {
    // Also when it does not exist (yet): the row's insert invalidates a cached null.
    dependsOn(ctx, `material:${id}`);
    return ctx.loaders.materialById.load(id);
  }

  @Authorized<Role>('curator')
  @Mutation(() => [MaterialType], {
    description:
      'Adds materials in one transaction: all are stored or, on any bad input, none. A structure already ' +
      'stored (same canonical hash) is returned as it is (with duplicateOf), not duplicated. Results are in input order; ' +
      'a JSON input holding an OPTIMADE list response ({"data": [...]}) gives one material per entry.',
  })
  async addMaterials(
    @Arg('inputs', () => [AddMaterialInput]) inputs: AddMaterialInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<MaterialRecord[]> {
    const { maxSites, maxTextBytes, maxBatchSize } = ctx.config;
    const materials = await addMaterials(ctx.db, inputs.map(toServiceAddMaterialInput), {
      maxSites,
      maxTextBytes,
      maxBatchSize,
      actor: createdByOf(ctx.principal),
      // In the insert's transaction: the active model embeds new structures in the background, and
      // the job commits with the materials (one queued job per model: its job key).
      inTransaction: async (tx, added) => {
        if (added.some((m) => m.kind === 'STRUCTURE')) await queueEmbeddingOfNewMaterials(tx);
      },
    });
    ctx.loaders.primeMaterials(materials);
    return materials;
  }

  @Authorized<Role>('curator')
  @Mutation(() => MaterialType, {
    description: 'Sets numeric properties of a material (value null removes one); all or none. Needs role curator.',
  })
  async setMaterialProperties(
    @Arg('materialId', () => ID) materialId: string,
    @Arg('properties', () => [PropertyInputType]) properties: PropertyInputType[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<MaterialRecord> {
    await setMaterialProperties(
      ctx.db,
      materialId,
      properties.map((p) => ({ name: p.name, value: p.value ?? null, unit: p.unit ?? null, source: p.source ?? null })),
      createdByOf(ctx.principal) ?? null,
    );
    return getMaterial(ctx.db, materialId);
  }

  @Authorized<Role>('curator')
  @Mutation(() => MaterialType, {
    description: 'Retires a material: it leaves every ranking but keeps its row, labels and embeddings; restoreMaterial undoes it. Needs role curator.',
  })
  retireMaterial(@Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: GraphQLContext): Promise<MaterialRecord> {
    return retireMaterial(ctx.db, id, reason, createdByOf(ctx.principal) ?? null);
  }

  @Authorized<Role>('curator')
  @Mutation(() => MaterialType, { description: 'Brings a retired material back into the rankings. Needs role curator.' })
  restoreMaterial(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<MaterialRecord> {
    return restoreMaterial(ctx.db, id);
  }

  @Authorized<Role>('admin')
  @Mutation(() => ID, {
    description:
      'Deletes a material that has never been labelled, with its embeddings (a labelled one is refused: retire it). ' +
      'Models that ranked it are re-scored in the same transaction. Returns its id. Needs role admin.',
  })
  deleteMaterial(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return deleteMaterial(ctx.db, id);
  }

  @FieldResolver(() => [MaterialPropertyType], { description: 'Numeric properties, by name.' })
  properties(@Root() material: MaterialRecord): MaterialPropertyType[] {
    return Object.entries(material.properties)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, p]) => ({ name, value: p.value, unit: p.unit, source: p.source, setBy: p.setBy, setAt: new Date(p.setAt) }));
  }

  @FieldResolver(() => Float, { nullable: true, description: 'The value of one property, e.g. property(name: "band_gap_ev"); null when the material lacks it.' })
  property(@Root() material: MaterialRecord, @Arg('name', () => String) name: string): number | null {
    return Object.hasOwn(material.properties, name) ? material.properties[name]!.value : null;
  }

  @FieldResolver(() => [OxidationStateType], {
    nullable: true,
    description: 'Average oxidation state per element of the best charge-balancing assignment (why it balances); null when none balances.',
  })
  oxidationStates(@Root() material: MaterialRecord): OxidationStateType[] | null {
    if (!material.oxidationStates) return null;
    return Object.entries(material.oxidationStates)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([element, state]) => ({ element, state, fraction: fractionText(state) }));
  }

  @FieldResolver(() => LatticeType, { nullable: true, description: 'The unit cell; null without a structure.' })
  async lattice(@Root() material: MaterialRecord, @Ctx() ctx: GraphQLContext): Promise<LatticeType | null> {
    const structure = await structureOf(ctx.loaders, material);
    if (!structure) return null;
    const vectors = structure.lattice;
    return { vectors: vectors.map((row) => [...row]), ...latticeParameters(vectors) };
  }

  @FieldResolver(() => [SiteType], { nullable: true, description: 'Sites of the cell; null without a structure.' })
  async sites(@Root() material: MaterialRecord, @Ctx() ctx: GraphQLContext): Promise<SiteType[] | null> {
    const structure = await structureOf(ctx.loaders, material);
    if (!structure) return null;
    const { lattice, sites } = structure;
    return sites.map((site) => ({
      species: site.species.map(({ element, occupancy }) => ({ element, occupancy })),
      frac: [...site.frac],
      cart: fracToCart(site.frac, lattice),
      label: site.label ?? null,
    }));
  }

  @FieldResolver(() => LabelType, {
    nullable: true,
    description: 'The current label: the newest label not retracted; null when there is none.',
  })
  label(@Root() material: MaterialRecord, @Ctx() ctx: GraphQLContext): LabelRecord | null | Promise<LabelRecord | null> {
    // The row's current_label_class is written in the transaction of every label write: null means
    // there is no current label, and an unlabelled candidate costs no query.
    if (material.currentLabelClass === null) return null;
    return ctx.loaders.currentLabelByMaterialId.load(material.id);
  }

  @FieldResolver(() => [LabelType], { description: 'Every label of this material, newest first, retracted ones included.' })
  async labels(@Root() material: MaterialRecord, @Ctx() ctx: GraphQLContext): Promise<LabelRecord[]> {
    return withoutRetractionRows(await ctx.loaders.labelHistoryByMaterialId.load(material.id));
  }

  @FieldResolver(() => String, { nullable: true, description: 'The structure as a P1 CIF; null without a structure.' })
  async cif(@Root() material: MaterialRecord, @Ctx() ctx: GraphQLContext): Promise<string | null> {
    const structure = await structureOf(ctx.loaders, material);
    return structure ? structureToCif(structure, material.name ?? material.reducedFormula) : null;
  }

  @FieldResolver(() => JSONScalar, {
    nullable: true,
    description:
      'The structure as an OPTIMADE structure entry `{id, type: "structures", attributes}` (lengths in Å); ' +
      'addMaterials accepts it back with format JSON. Null without a structure.',
  })
  async json(@Root() material: MaterialRecord, @Ctx() ctx: GraphQLContext): Promise<unknown> {
    const structure = await structureOf(ctx.loaders, material);
    if (!structure) return null;
    return { id: material.id, type: 'structures', attributes: structureToJson(structure) };
  }
}
