/**
 * Names for the parts of the dashboard's answers that views pass around. Every shape here is taken
 * from the types GraphQL Code Generator writes into graphql.ts (`npm run codegen`, from
 * schema/schema.graphql and the documents in queries.ts); nothing is copied by hand.
 */
import type * as G from './graphql.js';

export type { LabelClass, LabelFilter, ModelStatus } from './graphql.js';

/** A page of any connection the dashboard reads (`screen`, `materials`). */
export interface Connection<TEdge> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: TEdge[];
}

export type Label = G.LabelFieldsFragment;
export type MaterialSummary = G.MaterialSummaryFieldsFragment;
export type Neighbor = G.NeighborFieldsFragment;
export type ScreenEdge = G.ScreenQuery['screen']['edges'][number];
export type ScreeningResult = G.ScoreFieldsFragment;
/** Who retracted a label, when and why (null while it stands). */
export type LabelRetraction = NonNullable<Label['retraction']>;

export type MaterialDetail = NonNullable<G.MaterialQuery['material']>;
export type Lattice = NonNullable<MaterialDetail['lattice']>;
export type Site = NonNullable<MaterialDetail['sites']>[number];

export type ModelSummary = G.ModelSummaryFieldsFragment;
export type ModelDetail = NonNullable<G.ModelQuery['model']>;
export type ModelMetrics = ModelSummary['metrics'][number];
export type ModelProgress = NonNullable<ModelSummary['progress']>;
export type OperatingPoint = NonNullable<ModelDetail['decision']>['operatingPoints'][number];
/** A model's decision; its operating points only where the document selects them (Model, not ActiveDecision). */
export type ModelDecision = G.DecisionFieldsFragment & { operatingPoints?: OperatingPoint[] };
export type CurvePoint = ModelDetail['trainingCurve'][number];
