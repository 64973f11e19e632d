/**
 * Screening output types: the ranked candidates of `Query.screen`, neighbours, and the score of a
 * single material or uploaded structure. Roots are service records (src/services/screening.ts);
 * `node`, `material`, `nearestFast`, `totalCount` and `leftOut` are resolved in
 * `screening.resolver.ts`.
 */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ScreeningModel, ScreeningPage } from '../../services/screening.js';
import { LabelClassValue } from '../label/label.type.js';
import { MaterialType } from '../material/material.type.js';
import { PageInfo } from '../pagination.js';

export enum ReferenceModeValue {
  ALL = 'ALL',
  NEAREST = 'NEAREST',
}

registerEnumType(ReferenceModeValue, {
  name: 'ReferenceMode',
  description: 'Which references the mean distances of the score R are taken over.',
  valuesConfig: {
    ALL: { description: 'Every labelled material of each class (stored scores, updated on every label change).' },
    NEAREST: {
      description:
        'The k nearest labelled materials of each class (exact kNN). A ranking in this mode is computed per request and ' +
        'covers at most 10000 candidates: narrow the filter.',
    },
  },
});

const SCORE_DESCRIPTION =
  'R = meanDistanceToPoor / meanDistanceToFast (the text of the paper, not its Eq. 2, which prints the inverse): ' +
  'higher = more conductor-like. The means average the bounded distance 1 − exp(−d/s) where the model has a distanceScale s ' +
  '(Model.distanceScale), else the plain distance d. An infinite R (mean distance to FAST exactly 0) is reported as the largest double, 1.7976931348623157e308.';

const MEAN_DISTANCE_DESCRIPTION = (cls: string) =>
  `Mean distance to the ${cls} references: bounded, 1 − exp(−d/s), where the model has a distanceScale s; else plain.`;

@ObjectType('Neighbor', { description: 'A material near another in the embedding space of a model.' })
export class NeighborType {
  @Field(() => Int, { description: '1 = nearest.' })
  rank!: number;

  @Field(() => Float, { description: 'Distance in the model’s metric (Euclidean, or 1 − cosine).' })
  distance!: number;

  // `material` is resolved from `materialRecord` when the kNN statement read it, else from
  // `materialId` (DataLoader).
  materialId!: string;
  materialRecord?: unknown;
}

@ObjectType('ScreeningResult', { description: 'The score R of one material or uploaded structure under a model; not stored.' })
export class ScreeningResultType {
  @Field(() => ID)
  modelId!: string;

  @Field(() => Float, { description: SCORE_DESCRIPTION })
  score!: number;

  @Field(() => LabelClassValue, { description: 'FAST when score > threshold.' })
  predictedClass!: LabelClassValue;

  @Field(() => Float, { description: 'The model’s decision threshold on R (1 unless calibrated during evaluation).' })
  threshold!: number;

  @Field(() => Float, { description: MEAN_DISTANCE_DESCRIPTION('FAST') })
  meanDistanceToFast!: number;

  @Field(() => Float, { description: MEAN_DISTANCE_DESCRIPTION('POOR') })
  meanDistanceToPoor!: number;

  @Field(() => ReferenceModeValue)
  referenceMode!: ReferenceModeValue;

  // outOfDomain, nearestReferenceDistance and domainRadius are resolved in screening.resolver.ts.
}

@ObjectType('ScreeningEdge', { description: 'One ranked candidate.' })
export class ScreeningEdgeType {
  @Field(() => String)
  cursor!: string;

  @Field(() => Int, { description: 'Position in the ranking (after filter and minScore), 1 = most conductor-like.' })
  rank!: number;

  @Field(() => Float, { description: SCORE_DESCRIPTION })
  score!: number;

  @Field(() => LabelClassValue, { description: 'FAST when score > the model’s threshold.' })
  predictedClass!: LabelClassValue;

  @Field(() => Float, { description: MEAN_DISTANCE_DESCRIPTION('FAST') })
  meanDistanceToFast!: number;

  @Field(() => Float, { description: MEAN_DISTANCE_DESCRIPTION('POOR') })
  meanDistanceToPoor!: number;

  @Field(() => MaterialType)
  node!: unknown;

  materialId!: string;
  modelId!: string;
  /** The page's model (a service ScreeningModel), so nearestFast does not look it up again. */
  model?: ScreeningModel;
  /** The material row when the page query read it (a service MaterialRecord). */
  material?: unknown;
}

@ObjectType('ScreeningConnection', {
  description: 'Unlabelled materials ranked by R under a model, keyset-paginated on (score desc, id desc).',
})
export class ScreeningConnectionType {
  @Field(() => ID)
  modelId!: string;

  @Field(() => Float, { description: 'The model’s decision threshold on R.' })
  threshold!: number;

  @Field(() => ReferenceModeValue)
  referenceMode!: ReferenceModeValue;

  @Field(() => Int, { nullable: true, description: 'k of reference mode NEAREST; null for ALL.' })
  referenceK!: number | null;

  @Field(() => [ScreeningEdgeType])
  edges!: ScreeningEdgeType[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  // totalCount and leftOut are resolved on demand from `page`.
  page!: ScreeningPage;
}
