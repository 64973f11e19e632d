/** Input of trainModel. Omitted fields come from the preset (DEFAULT unless named). */
import { Field, Float, InputType, Int, registerEnumType } from 'type-graphql';
import type { TrainModelInput as ServiceTrainModelInput } from '../../services/models.js';
import { DistanceValue } from './model.type.js';

export enum EvaluationProtocolValue {
  NONE = 'NONE',
  LOO = 'LOO',
  GROUP_KFOLD = 'GROUP_KFOLD',
}
registerEnumType(EvaluationProtocolValue, {
  name: 'EvaluationProtocol',
  valuesConfig: {
    NONE: { description: 'No held-out evaluation: the model has only its fit to the training data (protocol TRAIN) and says it has no held-out estimate.' },
    LOO: { description: 'Leave-one-out on a stratified subset of at most 30 rows (one fit per row).' },
    GROUP_KFOLD: { description: 'Grouped 5-fold cross-validation (5 extra fits): the held-out estimate, the threshold chosen on out-of-fold scores. The default.' },
  },
});

export enum TrainingObjectiveValue {
  CONTRASTIVE = 'CONTRASTIVE',
  CROSS_ENTROPY = 'CROSS_ENTROPY',
  JOINT = 'JOINT',
}
registerEnumType(TrainingObjectiveValue, { name: 'TrainingObjective' });

export enum HyperparameterPresetValue {
  PAPER = 'PAPER',
  SLOTS = 'SLOTS',
  DEFAULT = 'DEFAULT',
}
registerEnumType(HyperparameterPresetValue, {
  name: 'HyperparameterPreset',
  valuesConfig: {
    PAPER: { description: "The contrastive paper's settings (k 12, 3 conv layers, feature 96, Euclidean, patience 15, ≤ 50 epochs)." },
    SLOTS: {
      description:
        'The paper’s slot-ordered backbone with cross-entropy and the composition descriptors (the default until 2026-12); its embedding jumps under noise and site order.',
    },
    DEFAULT: {
      description:
        'The default: the invariant smooth-neighbourhood backbone with a composition pathway, trained on every labelled material, an ensemble of members.',
    },
  },
});

@InputType('TrainModelInput')
export class TrainModelInput {
  @Field(() => String)
  name!: string;

  @Field(() => HyperparameterPresetValue, { nullable: true })
  preset?: HyperparameterPresetValue | null;

  @Field(() => Int, { nullable: true, description: 'Neighbours per atom: 4, 8 or 12 in the paper; 1..32.' })
  k?: number | null;

  @Field(() => Int, { nullable: true, description: 'Graph-convolution layers, 1..6.' })
  layers?: number | null;

  @Field(() => Int, { nullable: true, description: 'Atom feature length, 8..256.' })
  featureLength?: number | null;

  @Field(() => Int, { nullable: true, description: 'Width of the first dense layer, 8..256.' })
  denseLength?: number | null;

  @Field(() => Int, { nullable: true, description: 'Embedding size, 2..512.' })
  embeddingDim?: number | null;

  @Field(() => Float, { nullable: true, description: 'Contrastive margin (> 0).' })
  margin?: number | null;

  @Field(() => DistanceValue, { nullable: true })
  distance?: DistanceValue | null;

  @Field(() => TrainingObjectiveValue, { nullable: true })
  objective?: TrainingObjectiveValue | null;

  @Field(() => Int, { nullable: true, description: '1..500.' })
  maxEpochs?: number | null;

  @Field(() => Int, { nullable: true, description: 'Epochs without validation improvement before stopping, 1..100.' })
  patience?: number | null;

  @Field(() => Int, { nullable: true })
  seed?: number | null;

  @Field(() => Float, { nullable: true, description: 'Adam learning rate, (0, 1].' })
  learningRate?: number | null;

  @Field(() => Int, { nullable: true, description: 'Crystals per step, 2..256.' })
  batchSize?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Join the composition's 81 Magpie-like descriptors to the pooled crystal vector before the dense layers (default: the preset's).",
  })
  compositionDescriptors?: boolean | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Networks trained side by side from different initial weights, their embeddings joined (1..8; the DEFAULT preset’s backbone only). More members: rankings that depend less on the seed, at proportional cost.',
  })
  members?: number | null;

  @Field(() => EvaluationProtocolValue, { nullable: true, description: 'Default GROUP_KFOLD (NONE skips the held-out evaluation).' })
  evaluation?: EvaluationProtocolValue | null;
}

export function toServiceTrainModelInput(input: TrainModelInput): ServiceTrainModelInput {
  return { ...input };
}
