/**
 * A trained (or training) embedding model, its progress, curve and metrics. The root value of
 * `Model` is a service `ModelRecord`; the nested types map its plain objects one to one.
 */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from '../scalars.js';

export enum ModelStatusValue {
  QUEUED = 'QUEUED',
  TRAINING = 'TRAINING',
  READY = 'READY',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(ModelStatusValue, {
  name: 'ModelStatus',
  valuesConfig: {
    QUEUED: { description: 'Waiting for a trainer (also between a failed attempt and its retry).' },
    TRAINING: { description: 'A trainer is fitting, evaluating or embedding.' },
    READY: { description: 'Weights, curve, threshold and the embeddings of every structure material are stored.' },
    FAILED: { description: 'Training stopped for good; see `error`.' },
    CANCELLED: { description: 'Cancelled by cancelTraining.' },
  },
});

export enum DistanceValue {
  EUCLIDEAN = 'EUCLIDEAN',
  COSINE = 'COSINE',
}
registerEnumType(DistanceValue, { name: 'Distance', description: 'Distance between embeddings.' });

export enum TrainingPhaseValue {
  QUEUED = 'QUEUED',
  TRAINING = 'TRAINING',
  EVALUATING = 'EVALUATING',
  EMBEDDING = 'EMBEDDING',
  DONE = 'DONE',
}
registerEnumType(TrainingPhaseValue, { name: 'TrainingPhase' });

export enum MetricsProtocolValue {
  TRAIN = 'TRAIN',
  LOO = 'LOO',
  GROUP_KFOLD = 'GROUP_KFOLD',
}
registerEnumType(MetricsProtocolValue, {
  name: 'MetricsProtocol',
  valuesConfig: {
    TRAIN: { description: 'Leave-self-out scores of the training crystals themselves: optimistic, not a held-out estimate.' },
    LOO: { description: "Leave-one-out (the paper's protocol), possibly on a stratified subset (see `note`)." },
    GROUP_KFOLD: { description: 'Grouped 5-fold: no reduced formula (and as far as possible no family) on both sides.' },
  },
});

@ObjectType('TrainingProgress')
export class TrainingProgressType {
  @Field(() => TrainingPhaseValue)
  phase!: TrainingPhaseValue;

  @Field(() => Int, { description: 'Epochs finished.' })
  epoch!: number;

  @Field(() => Int)
  maxEpochs!: number;

  @Field(() => Float, { nullable: true })
  trainLoss!: number | null;

  @Field(() => Float, { nullable: true, description: 'Null without a validation set.' })
  validationLoss!: number | null;

  @Field(() => Int, { nullable: true, description: 'Upper bound in seconds (early stopping ends sooner); null when unknown.' })
  etaSeconds!: number | null;
}

@ObjectType('TrainingCurvePoint')
export class TrainingCurvePointType {
  @Field(() => Int)
  epoch!: number;

  @Field(() => Float, { nullable: true })
  trainLoss!: number | null;

  @Field(() => Float, { nullable: true })
  validationLoss!: number | null;
}

@ObjectType('ModelMetrics', { description: 'Classification metrics of the score R at `threshold` (FAST when R > threshold).' })
export class ModelMetricsType {
  @Field(() => MetricsProtocolValue)
  protocol!: MetricsProtocolValue;

  @Field(() => Float, { nullable: true })
  accuracy!: number | null;

  @Field(() => Float, { nullable: true, description: 'Recall of FAST.' })
  sensitivity!: number | null;

  @Field(() => Float, { nullable: true, description: 'Recall of POOR.' })
  specificity!: number | null;

  @Field(() => Float, { nullable: true })
  balancedAccuracy!: number | null;

  @Field(() => Float, { nullable: true })
  rocAuc!: number | null;

  @Field(() => Float, { nullable: true, description: 'Average precision of FAST.' })
  prAuc!: number | null;

  @Field(() => Float, { nullable: true })
  threshold!: number | null;

  @Field(() => Int, { description: 'Rows scored.' })
  n!: number;

  @Field(() => String, { nullable: true })
  note?: string | null;
}

@ObjectType('LabelCounts')
export class LabelCountsType {
  @Field(() => Int)
  fast!: number;

  @Field(() => Int)
  poor!: number;
}

@ObjectType('Model', { description: 'An embedding model: a k-NAGCN trained on the labelled structures.' })
export class ModelType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => ModelStatusValue)
  status!: ModelStatusValue;

  @Field(() => Boolean, { description: 'The one model that screening and new embeddings use.' })
  isActive!: boolean;

  @Field(() => JSONScalar, { description: 'Every hyperparameter, defaults filled in.' })
  hyperparameters!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'TF.js backend that trained it (wasm, wasm+openblas when the native OpenBLAS products ran on wasm, tensorflow, cpu).' })
  backend!: string | null;

  @Field(() => TrainingProgressType, { nullable: true })
  progress!: TrainingProgressType | null;

  @Field(() => [TrainingCurvePointType], { description: 'One point per finished epoch.' })
  trainingCurve!: TrainingCurvePointType[];

  @Field(() => ModelMetricsType, { nullable: true })
  metrics!: ModelMetricsType | null;

  @Field(() => LabelCountsType, { nullable: true, description: 'Labelled structures it trained on (fixed when training started).' })
  labelCounts!: LabelCountsType | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  startedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => Int, { nullable: true })
  embeddingDim!: number | null;

  @Field(() => DistanceValue)
  distance!: DistanceValue;

  @Field(() => Float, { nullable: true, description: 'Calibrated decision threshold on the score R.' })
  threshold!: number | null;

  @Field(() => String, { nullable: true })
  createdBy!: string | null;
}

@ObjectType('TrainingProgressEvent')
export class TrainingProgressEventType {
  @Field(() => ID)
  modelId!: string;

  @Field(() => ModelStatusValue)
  status!: ModelStatusValue;

  @Field(() => TrainingProgressType, { nullable: true })
  progress!: TrainingProgressType | null;

  @Field(() => ModelType)
  model!: ModelType;
}
