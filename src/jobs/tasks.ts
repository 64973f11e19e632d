/**
 * The tasks of the job queue: identifiers and payloads. Producers (services that enqueue) and
 * consumers (trainer/tasks/) both import them from here, so neither imports the other.
 */

/** Trains a QUEUED model (trainer/tasks/train-model.ts). */
export const TRAIN_MODEL_TASK = 'train_model';
/** Embeds the materials a model has no embedding of yet (trainer/tasks/embed-materials.ts). */
export const EMBED_MATERIALS_TASK = 'embed_materials';

/** How a training job evaluates the model it trains. */
export type EvaluationProtocol = 'NONE' | 'LOO' | 'GROUP_KFOLD';

export interface TrainModelPayload {
  modelId: string;
  evaluation: EvaluationProtocol;
}

export interface EmbedMaterialsPayload {
  /** Absent: the model active when the job runs. */
  modelId?: string;
}
