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
    TRAIN: { description: 'Fit to the training data: leave-self-out scores of the training crystals themselves. Optimistic; never an estimate of accuracy.' },
    LOO: { description: "Held out: leave-one-out (the paper's protocol), possibly on a stratified subset (see `note`)." },
    GROUP_KFOLD: { description: 'Held out: grouped K-fold (`folds`): no reduced formula (and as far as possible no family) on both sides.' },
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

  @Field(() => Int, { nullable: true, description: 'Upper bound in seconds for the whole job (early stopping ends sooner); null when unknown.' })
  etaSeconds!: number | null;

  @Field(() => Int, { nullable: true, description: 'EVALUATING: the held-out fold being fitted (1-based; 0 before the first); `epoch` is then that fold\'s.' })
  fold?: number | null;

  @Field(() => Int, { nullable: true, description: 'EVALUATING: folds in all.' })
  folds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Seconds since the job started. Progress is re-sent at least every 5 s while a job runs, so this advances even within a long epoch.' })
  elapsedSeconds?: number | null;
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

@ObjectType('ModelMetrics', {
  description:
    'Classification metrics of the score R under one protocol; accuracy, sensitivity and specificity at `threshold` ' +
    '(FAST when R > threshold). Only `heldOut` figures estimate accuracy on new materials.',
})
export class ModelMetricsType {
  @Field(() => MetricsProtocolValue)
  protocol!: MetricsProtocolValue;

  @Field(() => Boolean, { description: 'True for a held-out estimate (GROUP_KFOLD, LOO); false for the fit to the training data (TRAIN).' })
  heldOut!: boolean;

  @Field(() => String, { description: 'The protocol in words, e.g. "held out: grouped 5-fold × 1 seed, n = 254" or "fit to the training data (not held out), n = 8".' })
  label!: string;

  @Field(() => Int, { nullable: true, description: 'Folds of GROUP_KFOLD (rows of LOO); null for TRAIN.' })
  folds?: number | null;

  @Field(() => [Int], { nullable: true, description: 'Seeds of the cross-validation (each with its own folds); figures are means over them.' })
  seeds?: number[] | null;

  @Field(() => Float, { nullable: true, description: 'Sample sd of the ROC-AUC over seeds (null with one seed).' })
  rocAucSd?: number | null;

  @Field(() => String, { nullable: true, description: 'Where the figures come from (the training job, or the command that measured them).' })
  source?: string | null;

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

@ObjectType('OperatingPoint', { description: 'What "FAST when R > threshold" gives on scored materials with known labels.' })
export class OperatingPointType {
  @Field(() => Float)
  threshold!: number;

  @Field(() => Float, { nullable: true, description: 'Share of predicted FAST that are FAST; null when none is predicted FAST.' })
  precision!: number | null;

  @Field(() => Float, { description: 'Share of FAST predicted FAST (sensitivity).' })
  recall!: number;

  @Field(() => Float, { description: 'Share of POOR predicted FAST.' })
  falsePositiveRate!: number;

  @Field(() => Float, { description: 'Share of all scored materials predicted FAST.' })
  predictedFastRate!: number;
}

@ObjectType('ModelDecision', {
  description:
    "The model's decision threshold on R (predictedClass is FAST above it) and what to expect at it. Chosen (max balanced " +
    'accuracy) and measured on out-of-fold scores when the model has a held-out evaluation; otherwise on the training ' +
    "crystals' own scores (`heldOut` false: optimistic).",
})
export class ModelDecisionType {
  @Field(() => Float)
  threshold!: number;

  @Field(() => MetricsProtocolValue, { description: 'The scores it was chosen and measured on.' })
  protocol!: MetricsProtocolValue;

  @Field(() => Boolean)
  heldOut!: boolean;

  @Field(() => String)
  label!: string;

  @Field(() => Float, { nullable: true, description: 'Expected precision of FAST predictions.' })
  precision!: number | null;

  @Field(() => Float, { description: 'Expected recall of FAST.' })
  recall!: number;

  @Field(() => Float, { description: 'Expected share of POOR materials predicted FAST.' })
  falsePositiveRate!: number;

  @Field(() => Float)
  balancedAccuracy!: number;

  @Field(() => Int, { description: 'Scores it was measured on.' })
  n!: number;

  @Field(() => [OperatingPointType], { description: 'Other thresholds (quantiles of the scores, the chosen one and the paper\'s 1), ascending.' })
  operatingPoints!: OperatingPointType[];
}

@ObjectType('OutOfFoldScore', { description: 'A training material scored by the fold model that did not train on it.' })
export class OutOfFoldScoreType {
  @Field(() => ID)
  materialId!: string;

  @Field(() => String, { description: 'FAST or POOR: its label when the model trained.' })
  label!: string;

  @Field(() => Float)
  score!: number;

  @Field(() => Int)
  fold!: number;
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

  @Field(() => [ModelMetricsType], {
    description:
      'Every estimate, held-out first (GROUP_KFOLD or LOO), then the fit to the training data (TRAIN, `heldOut` false). ' +
      'Empty when never evaluated; without a held-out entry the model has no held-out estimate (see `noHeldOutReason`).',
  })
  metrics!: ModelMetricsType[];

  @Field(() => ModelMetricsType, { nullable: true, description: 'The held-out estimate, or null: this model has none.' })
  heldOutMetrics!: ModelMetricsType | null;

  @Field(() => String, { nullable: true, description: 'Why there is no held-out estimate; null when there is one.' })
  noHeldOutReason!: string | null;

  @Field(() => ModelDecisionType, { nullable: true, description: 'The decision threshold and its expected precision, recall and false-positive rate.' })
  decision!: ModelDecisionType | null;

  @Field(() => [OutOfFoldScoreType], { description: 'Out-of-fold scores of the training materials (empty without a held-out evaluation).' })
  outOfFoldScores!: OutOfFoldScoreType[];

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

  @Field(() => Float, {
    nullable: true,
    description:
      'Distance scale s of the score: R averages the bounded distance 1 − exp(−d/s) to the references, so far references ' +
      'saturate near 1 and R reflects the references around a material. Null: R averages the plain distance d (the paper).',
  })
  distanceScale!: number | null;

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
