/** Label queries and mutations, and `Label.material`. Resolvers only map arguments to service calls. */
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { listLabels, type LabelRecord, type MaterialRecord } from '../../services/materials.js';
// Label writes go through the screening engine, so every model's stored scores change in the same transaction.
import type { LabelWriteOptions } from '../../services/screening.js';
import { NotFoundError } from '../../errors.js';
import { createdByOf, type Role } from '../../services/tokens.js';
import type { GraphQLContext } from '../context.js';
import { MaterialType } from '../material/material.type.js';
import { connectionType, PageArgs, toConnection, toPage, type Connection } from '../pagination.js';
import { LabelMaterialInput } from './label.input.js';
import { LabelType } from './label.type.js';

/** Stored screening scores are folded after the response, in this process; a failed fold is logged and retried later. */
function screeningWriteOptions(ctx: GraphQLContext): LabelWriteOptions {
  return { fold: 'background', onFoldError: (err) => ctx.logger.error({ err }, 'screening fold failed') };
}

@ObjectType('LabelConnection')
export class LabelConnection extends connectionType('Label', LabelType) {}

@Resolver(() => LabelType)
export class LabelResolver {
  @Query(() => LabelConnection, { description: 'Label history of a material, newest first, retracted labels included.' })
  async labels(
    @Arg('materialId', () => ID) materialId: string,
    @Args(() => PageArgs) pageArgs: PageArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<LabelRecord>> {
    const result = await listLabels(ctx.db, materialId, toPage(pageArgs));
    ctx.loaders.primeLabels(result.items);
    return toConnection((result));
  }

  @Query(() => LabelType, { nullable: true, description: 'The label with this id, or null when there is none.' })
  async label(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<LabelRecord | null> {
    const label = await ctx.loaders.labelById.load(id);
    // A retraction row is not a Label (see Label's description).
    return label && label.class !== null ? label : null;
  }

  @Authorized<Role>('curator')
  @Mutation(() => LabelType, {
    description: 'Adds a label to a material; it becomes the current label. Earlier labels stay in the history.',
  })
  async labelMaterial(
    @Arg('input', () => LabelMaterialInput) input: LabelMaterialInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<LabelRecord> {
    const label = await ctx.screening.labelMaterial(
      {
        materialId: input.materialId,
        class: input.class,
        conductivitySPerCm: input.conductivity ?? null,
        temperatureK: input.temperature ?? null,
        source: input.source ?? null,
        reason: input.reason ?? null,
      },
      createdByOf(ctx.principal),
      screeningWriteOptions(ctx),
    );
    ctx.loaders.forgetMaterial(label.materialId);
    ctx.loaders.primeLabels([label]);
    return label;
  }

  @Authorized<Role>('curator')
  @Mutation(() => LabelType, {
    description:
      'Retracts a label (it stays in the history with `retracted: true`); the material\'s current label ' +
      'falls back to its newest label not retracted. Retracting a label twice is a CONFLICT.',
  })
  async retractLabel(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<LabelRecord> {
    const label = await ctx.screening.retractLabel(id, createdByOf(ctx.principal), reason ?? undefined, screeningWriteOptions(ctx));
    ctx.loaders.forgetMaterial(label.materialId);
    ctx.loaders.primeLabels([label]);
    return label;
  }

  @FieldResolver(() => MaterialType, { description: 'The labelled material.' })
  async material(@Root() label: LabelRecord, @Ctx() ctx: GraphQLContext): Promise<MaterialRecord> {
    const material = await ctx.loaders.materialById.load(label.materialId);
    // The foreign key makes this impossible short of a concurrent delete.
    if (!material) throw new NotFoundError('material', label.materialId);
    return material;
  }
}
