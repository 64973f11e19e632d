/**
 * Model registry queries and mutations, and the trainingProgress subscription. Resolvers only
 * map arguments to services (src/services/models.ts).
 */
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import {
  activateModel,
  cancelTraining,
  checkModelId,
  getActiveModel,
  getModel,
  listModels,
  requestTraining,
  type ModelRecord,
} from '../../services/models.js';
import { createdByOf, type Role } from '../../services/tokens.js';
import type { GraphQLContext } from '../context.js';
import { TrainModelInput, toServiceTrainModelInput } from './model.input.js';
import { ModelStatusValue, ModelType, TrainingProgressEventType } from './model.type.js';
import { trainingProgressEvents, type TrainingProgressPayload } from './training-progress.js';

@Resolver(() => ModelType)
export class ModelResolver {
  @Query(() => [ModelType], { description: 'Every model, newest first (optionally only those with `status`).' })
  models(
    @Arg('status', () => ModelStatusValue, { nullable: true }) status: ModelStatusValue | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ModelRecord[]> {
    return listModels(ctx.db, status ? { status } : {});
  }

  @Query(() => ModelType, { nullable: true, description: 'The model with this id, or null.' })
  model(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ModelRecord | null> {
    return getModel(ctx.db, id);
  }

  @Query(() => ModelType, { nullable: true, description: 'The active model (screening uses it), or null when there is none.' })
  activeModel(@Ctx() ctx: GraphQLContext): Promise<ModelRecord | null> {
    return getActiveModel(ctx.db);
  }

  @Authorized<Role>('admin')
  @Mutation(() => ModelType, {
    description:
      'Queues a training job and returns the QUEUED model. A trainer trains it on the labels as they are when it ' +
      'starts, stores the embeddings of every structure material and marks it READY (active if no model is).',
  })
  trainModel(@Arg('input', () => TrainModelInput) input: TrainModelInput, @Ctx() ctx: GraphQLContext): Promise<ModelRecord> {
    return requestTraining(ctx.db, toServiceTrainModelInput(input), createdByOf(ctx.principal));
  }

  @Authorized<Role>('admin')
  @Mutation(() => ModelType, { description: 'Makes a READY model the active one (MODEL_NOT_READY otherwise).' })
  activateModel(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ModelRecord> {
    return activateModel(ctx.db, id);
  }

  @Authorized<Role>('admin')
  @Mutation(() => ModelType, { description: 'Cancels a QUEUED or TRAINING model (INVALID_JOB_STATE otherwise).' })
  cancelTraining(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ModelRecord> {
    return cancelTraining(ctx.db, id);
  }

  @Subscription(() => TrainingProgressEventType, {
    description:
      "The model's state now, then again whenever its status or progress changes; ends after READY, FAILED or CANCELLED.",
    subscribe: ({ args, context }) => trainingProgressEvents(context as GraphQLContext, checkModelId(args.modelId)),
  })
  trainingProgress(@Root() event: TrainingProgressPayload, @Arg('modelId', () => ID) _modelId: string): TrainingProgressPayload {
    return event;
  }
}
