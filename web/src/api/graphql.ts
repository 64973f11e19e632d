/* Generated from schema/schema.graphql and web/src/api/queries.ts by `npm run codegen`. Do not edit by hand. */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** Exactly one of `structure` or `composition`. */
export type AddMaterialInput = {
  /** Store a structure whose density is outside [0.1, 25] g/cm³ (refused otherwise, as a cell in the wrong unit or with atoms missing). */
  allowUnusualDensity?: boolean | null | undefined;
  /** A chemical formula, e.g. "Li7La3Zr2O12", for a material without a known structure. */
  composition?: string | null | undefined;
  name?: string | null | undefined;
  /** Dataset or origin, e.g. a DOI. */
  source?: string | null | undefined;
  structure?: StructureInput | null | undefined;
};

/** What a token may do; each role includes the ones before it. */
export type ApiTokenRole =
  /** Also trains, activates and cancels models, and manages tokens. */
  | 'ADMIN'
  /** Also adds materials and adds or retracts labels. */
  | 'CURATOR'
  /** Queries and subscriptions (open to anyone unless the server requires a token). */
  | 'READER';

/** Conductivity class of a label. */
export type LabelClass =
  /** Fast Li-ion conductor (room-temperature σ ≥ 1e-4 S/cm in the shipped data). */
  | 'FAST'
  /** Poor Li-ion conductor. */
  | 'POOR';

/** Filter on the current label of a material. */
export type LabelFilter =
  /** Current label is FAST. */
  | 'FAST'
  /** Current label is POOR. */
  | 'POOR'
  /** No current label (never labelled, or every label retracted). */
  | 'UNLABELLED';

export type LabelMaterialInput = {
  class: LabelClass;
  /** Measured ionic conductivity, in S/cm (≥ 0). */
  conductivity?: number | null | undefined;
  materialId: string;
  /** Free-text justification. */
  reason?: string | null | undefined;
  /** Where the label comes from (paper DOI, dataset name, …). */
  source?: string | null | undefined;
  /** Temperature of the measurement, in K (0 < T ≤ 2000). */
  temperature?: number | null | undefined;
};

export type MaterialKind =
  /** Only a chemical formula; structure fields are null. */
  | 'COMPOSITION'
  /** A full crystal structure (lattice and sites). */
  | 'STRUCTURE';

export type MetricsProtocol =
  /** Held out: grouped K-fold (`folds`): no reduced formula (and as far as possible no family) on both sides. */
  | 'GROUP_KFOLD'
  /** Held out: leave-one-out (the paper's protocol), possibly on a stratified subset (see `note`). */
  | 'LOO'
  /** Fit to the training data: leave-self-out scores of the training crystals themselves. Optimistic; never an estimate of accuracy. */
  | 'TRAIN';

export type ModelStatus =
  /** Cancelled by cancelTraining. */
  | 'CANCELLED'
  /** Training stopped for good; see `error`. */
  | 'FAILED'
  /** Waiting for a trainer (also between a failed attempt and its retry). */
  | 'QUEUED'
  /** Weights, curve, threshold and the embeddings of every structure material are stored. */
  | 'READY'
  /** A trainer is fitting, evaluating or embedding. */
  | 'TRAINING';

/** Text format of a structure. */
export type StructureFormat =
  /** Crystallographic Information File (CIF 1.1); symmetry is expanded to the full cell. */
  | 'CIF'
  /** A pymatgen Structure dict or an OPTIMADE structure entry. */
  | 'JSON'
  /** VASP POSCAR/CONTCAR. */
  | 'POSCAR';

/** A structure given as text. Text is sent inline (no file upload). */
export type StructureInput = {
  /** Format of `text`. */
  format?: StructureFormat;
  /** The file contents. */
  text: string;
};

export type TrainingPhase =
  | 'DONE'
  | 'EMBEDDING'
  | 'EVALUATING'
  | 'QUEUED'
  | 'TRAINING';

/** An enum describing what kind of type a given `__Type` is. */
export type __TypeKind =
  /** Indicates this type is a scalar. */
  | 'SCALAR'
  /** Indicates this type is an object. `fields` and `interfaces` are valid fields. */
  | 'OBJECT'
  /** Indicates this type is an interface. `fields`, `interfaces`, and `possibleTypes` are valid fields. */
  | 'INTERFACE'
  /** Indicates this type is a union. `possibleTypes` is a valid field. */
  | 'UNION'
  /** Indicates this type is an enum. `enumValues` is a valid field. */
  | 'ENUM'
  /** Indicates this type is an input object. `inputFields` is a valid field. */
  | 'INPUT_OBJECT'
  /** Indicates this type is a list. `ofType` is a valid field. */
  | 'LIST'
  /** Indicates this type is a non-null. `ofType` is a valid field. */
  | 'NON_NULL';

export type LabelFieldsFragment = { id: string, class: LabelClass, conductivity: number | null, temperature: number | null, source: string | null, reason: string | null, createdBy: string | null, createdAt: string, retracted: boolean, retraction: { reason: string | null, createdBy: string | null, createdAt: string } | null };

export type MaterialSummaryFieldsFragment = { id: string, name: string | null, source: string | null, sourceId: string | null, sourceUrl: string | null, formula: string, reducedFormula: string, elements: Array<string>, nsites: number | null, kind: MaterialKind, chargeBalanced: boolean | null, label: { id: string, class: LabelClass } | null };

export type NeighborFieldsFragment = { rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } };

export type CapabilitiesQueryVariables = Exact<{ [key: string]: never; }>;


export type CapabilitiesQuery = { __schema: { queryType: { fields: Array<{ name: string }> | null }, mutationType: { fields: Array<{ name: string }> | null } | null, subscriptionType: { fields: Array<{ name: string }> | null } | null }, material: { fields: Array<{ name: string }> | null } | null, model: { fields: Array<{ name: string, type: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null } | null } | null } | null } }> | null } | null };

export type TypeFieldsQueryVariables = Exact<{
  name: string;
}>;


export type TypeFieldsQuery = { __type: { kind: __TypeKind, fields: Array<{ name: string, args: Array<{ name: string, type: { kind: __TypeKind } }>, type: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null } | null } | null } | null } }> | null } | null };

export type SubscriptionFieldsQueryVariables = Exact<{ [key: string]: never; }>;


export type SubscriptionFieldsQuery = { __schema: { subscriptionType: { fields: Array<{ name: string, type: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null, ofType: { kind: __TypeKind, name: string | null } | null } | null } }> | null } | null } };

export type ScreenQueryVariables = Exact<{
  modelId?: string | null | undefined;
  elementsHasAll?: Array<string> | string | null | undefined;
  elementsHasOnly?: Array<string> | string | null | undefined;
  label?: LabelFilter | null | undefined;
  chargeBalanced?: boolean | null | undefined;
  hasAnion?: boolean | null | undefined;
  minScore?: number | null | undefined;
  first: number;
  after?: string | null | undefined;
  nearestK: number;
}>;


export type ScreenQuery = { screen: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, rank: number, score: number, predictedClass: LabelClass, meanDistanceToFast: number, meanDistanceToPoor: number, nearestFast: Array<{ rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } }>, node: { id: string, name: string | null, source: string | null, sourceId: string | null, sourceUrl: string | null, formula: string, reducedFormula: string, elements: Array<string>, nsites: number | null, kind: MaterialKind, chargeBalanced: boolean | null, label: { id: string, class: LabelClass } | null } }> } };

export type ScreenScoresQueryVariables = Exact<{
  modelId?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type ScreenScoresQuery = { screen: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ score: number, node: { id: string, formula: string } }> } };

export type MaterialsQueryVariables = Exact<{
  elementsHasAll?: Array<string> | string | null | undefined;
  elementsHasOnly?: Array<string> | string | null | undefined;
  label?: LabelFilter | null | undefined;
  chargeBalanced?: boolean | null | undefined;
  hasAnion?: boolean | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type MaterialsQuery = { materials: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, name: string | null, source: string | null, sourceId: string | null, sourceUrl: string | null, formula: string, reducedFormula: string, elements: Array<string>, nsites: number | null, kind: MaterialKind, chargeBalanced: boolean | null, label: { id: string, class: LabelClass } | null } }> } };

export type LabelledScoresQueryVariables = Exact<{
  label: LabelFilter;
  modelId?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type LabelledScoresQuery = { materials: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, formula: string, screening: { score: number } | null } }> } };

export type EmbeddingsQueryVariables = Exact<{
  label?: LabelFilter | null | undefined;
  modelId?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type EmbeddingsQuery = { materials: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, formula: string, embedding: Array<number> | null, label: { id: string, class: LabelClass } | null } }> } };

export type MaterialQueryVariables = Exact<{
  id: string;
}>;


export type MaterialQuery = { material: { id: string, name: string | null, source: string | null, sourceId: string | null, sourceUrl: string | null, spaceGroupNumber: number | null, spaceGroupSymbol: string | null, chargeBalanced: boolean | null, hasAnion: boolean | null, hasReducibleTransitionMetal: boolean | null, retiredAt: string | null, retiredBy: string | null, retiredReason: string | null, family: string | null, kind: MaterialKind, formula: string, reducedFormula: string, elements: Array<string>, nelements: number, nsites: number | null, natoms: number, isOrdered: boolean | null, volume: number | null, density: number | null, structureHash: string | null, createdAt: string, aliases: Array<{ name: string | null, source: string | null, sourceId: string | null, createdBy: string | null, createdAt: string }>, oxidationStates: Array<{ element: string, state: number, fraction: string }> | null, properties: Array<{ name: string, value: number, unit: string | null, source: string | null }>, lattice: { vectors: Array<Array<number>>, a: number, b: number, c: number, alpha: number, beta: number, gamma: number } | null, sites: Array<{ label: string | null, frac: Array<number>, species: Array<{ element: string, occupancy: number }> }> | null, label: { id: string, class: LabelClass, conductivity: number | null, temperature: number | null, source: string | null, reason: string | null, createdBy: string | null, createdAt: string, retracted: boolean, retraction: { reason: string | null, createdBy: string | null, createdAt: string } | null } | null, labels: Array<{ id: string, class: LabelClass, conductivity: number | null, temperature: number | null, source: string | null, reason: string | null, createdBy: string | null, createdAt: string, retracted: boolean, retraction: { reason: string | null, createdBy: string | null, createdAt: string } | null }> } | null };

export type MaterialCifQueryVariables = Exact<{
  id: string;
}>;


export type MaterialCifQuery = { material: { id: string, formula: string, cif: string | null } | null };

export type ScoreFieldsFragment = { score: number, predictedClass: LabelClass, meanDistanceToFast: number, meanDistanceToPoor: number, outOfDomain: boolean, nearestReferenceDistance: number | null, domainRadius: number | null, nearestFast: Array<{ rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } }> };

export type MaterialScreeningQueryVariables = Exact<{
  id: string;
  k: number;
}>;


export type MaterialScreeningQuery = { material: { id: string, screening: { score: number, predictedClass: LabelClass, meanDistanceToFast: number, meanDistanceToPoor: number, outOfDomain: boolean, nearestReferenceDistance: number | null, domainRadius: number | null, nearestFast: Array<{ rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } }> } | null, similar: Array<{ rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } }> } | null };

export type LabelMaterialMutationVariables = Exact<{
  input: LabelMaterialInput;
}>;


export type LabelMaterialMutation = { labelMaterial: { id: string, class: LabelClass, conductivity: number | null, temperature: number | null, source: string | null, reason: string | null, createdBy: string | null, createdAt: string, retracted: boolean, retraction: { reason: string | null, createdBy: string | null, createdAt: string } | null } };

export type RetractLabelMutationVariables = Exact<{
  id: string;
  reason?: string | null | undefined;
}>;


export type RetractLabelMutation = { retractLabel: { id: string, class: LabelClass, conductivity: number | null, temperature: number | null, source: string | null, reason: string | null, createdBy: string | null, createdAt: string, retracted: boolean, retraction: { reason: string | null, createdBy: string | null, createdAt: string } | null } };

export type AddMaterialsMutationVariables = Exact<{
  inputs: Array<AddMaterialInput> | AddMaterialInput;
}>;


export type AddMaterialsMutation = { addMaterials: Array<{ id: string, formula: string }> };

export type ScoreStructureQueryVariables = Exact<{
  structure: StructureInput;
  k: number;
}>;


export type ScoreStructureQuery = { scoreStructure: { score: number, predictedClass: LabelClass, meanDistanceToFast: number, meanDistanceToPoor: number, outOfDomain: boolean, nearestReferenceDistance: number | null, domainRadius: number | null, nearestFast: Array<{ rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } }> }, similarMaterials: Array<{ rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } }> };

export type ScoreCompositionQueryVariables = Exact<{
  formula: string;
  k: number;
}>;


export type ScoreCompositionQuery = { scoreComposition: { score: number, predictedClass: LabelClass, meanDistanceToFast: number, meanDistanceToPoor: number, outOfDomain: boolean, nearestReferenceDistance: number | null, domainRadius: number | null, nearestFast: Array<{ rank: number, distance: number, material: { id: string, formula: string, reducedFormula: string, label: { id: string, class: LabelClass, conductivity: number | null } | null } }> } };

export type DecisionFieldsFragment = { threshold: number, protocol: MetricsProtocol, heldOut: boolean, label: string, precision: number | null, recall: number, falsePositiveRate: number, balancedAccuracy: number, n: number };

export type ModelSummaryFieldsFragment = { id: string, name: string, status: ModelStatus, isActive: boolean, backend: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, error: string | null, noHeldOutReason: string | null, threshold: number | null, distanceScale: number | null, labelCounts: { fast: number, poor: number } | null, progress: { phase: TrainingPhase, fold: number | null, folds: number | null, epoch: number, maxEpochs: number, trainLoss: number | null, validationLoss: number | null, etaSeconds: number | null } | null, metrics: Array<{ protocol: MetricsProtocol, heldOut: boolean, label: string, folds: number | null, seeds: Array<number> | null, rocAucSd: number | null, source: string | null, note: string | null, accuracy: number | null, sensitivity: number | null, specificity: number | null, balancedAccuracy: number | null, rocAuc: number | null, prAuc: number | null, threshold: number | null, n: number }>, heldOutMetrics: { protocol: MetricsProtocol, label: string, rocAuc: number | null, rocAucSd: number | null } | null, decision: { threshold: number, protocol: MetricsProtocol, heldOut: boolean, label: string, precision: number | null, recall: number, falsePositiveRate: number, balancedAccuracy: number, n: number } | null };

export type ModelsQueryVariables = Exact<{ [key: string]: never; }>;


export type ModelsQuery = { models: Array<{ id: string, name: string, status: ModelStatus, isActive: boolean, backend: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, error: string | null, noHeldOutReason: string | null, threshold: number | null, distanceScale: number | null, labelCounts: { fast: number, poor: number } | null, progress: { phase: TrainingPhase, fold: number | null, folds: number | null, epoch: number, maxEpochs: number, trainLoss: number | null, validationLoss: number | null, etaSeconds: number | null } | null, metrics: Array<{ protocol: MetricsProtocol, heldOut: boolean, label: string, folds: number | null, seeds: Array<number> | null, rocAucSd: number | null, source: string | null, note: string | null, accuracy: number | null, sensitivity: number | null, specificity: number | null, balancedAccuracy: number | null, rocAuc: number | null, prAuc: number | null, threshold: number | null, n: number }>, heldOutMetrics: { protocol: MetricsProtocol, label: string, rocAuc: number | null, rocAucSd: number | null } | null, decision: { threshold: number, protocol: MetricsProtocol, heldOut: boolean, label: string, precision: number | null, recall: number, falsePositiveRate: number, balancedAccuracy: number, n: number } | null }> };

export type ActiveModelQueryVariables = Exact<{ [key: string]: never; }>;


export type ActiveModelQuery = { activeModel: { id: string, name: string, status: ModelStatus, metrics: Array<{ protocol: MetricsProtocol, threshold: number | null }> } | null };

export type ActiveDecisionQueryVariables = Exact<{ [key: string]: never; }>;


export type ActiveDecisionQuery = { activeModel: { id: string, threshold: number | null, noHeldOutReason: string | null, decision: { threshold: number, protocol: MetricsProtocol, heldOut: boolean, label: string, precision: number | null, recall: number, falsePositiveRate: number, balancedAccuracy: number, n: number } | null } | null };

export type ActiveOutOfFoldQueryVariables = Exact<{ [key: string]: never; }>;


export type ActiveOutOfFoldQuery = { activeModel: { id: string, threshold: number | null, decision: { threshold: number, protocol: MetricsProtocol } | null, outOfFoldScores: Array<{ materialId: string, label: string, score: number }> } | null };

export type ModelQueryVariables = Exact<{
  id: string;
}>;


export type ModelQuery = { model: { hyperparameters: unknown, id: string, name: string, status: ModelStatus, isActive: boolean, backend: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, error: string | null, noHeldOutReason: string | null, threshold: number | null, distanceScale: number | null, trainingCurve: Array<{ epoch: number, trainLoss: number | null, validationLoss: number | null }>, decision: { threshold: number, protocol: MetricsProtocol, heldOut: boolean, label: string, precision: number | null, recall: number, falsePositiveRate: number, balancedAccuracy: number, n: number, operatingPoints: Array<{ threshold: number, precision: number | null, recall: number, falsePositiveRate: number, predictedFastRate: number }> } | null, labelCounts: { fast: number, poor: number } | null, progress: { phase: TrainingPhase, fold: number | null, folds: number | null, epoch: number, maxEpochs: number, trainLoss: number | null, validationLoss: number | null, etaSeconds: number | null } | null, metrics: Array<{ protocol: MetricsProtocol, heldOut: boolean, label: string, folds: number | null, seeds: Array<number> | null, rocAucSd: number | null, source: string | null, note: string | null, accuracy: number | null, sensitivity: number | null, specificity: number | null, balancedAccuracy: number | null, rocAuc: number | null, prAuc: number | null, threshold: number | null, n: number }>, heldOutMetrics: { protocol: MetricsProtocol, label: string, rocAuc: number | null, rocAucSd: number | null } | null } | null };

export type ActivateModelMutationVariables = Exact<{
  id: string;
}>;


export type ActivateModelMutation = { activateModel: { id: string, isActive: boolean, status: ModelStatus } };

export type CancelTrainingMutationVariables = Exact<{
  id: string;
}>;


export type CancelTrainingMutation = { cancelTraining: { id: string, status: ModelStatus } };

export type QueuedModelFragment = { id: string, name: string, status: ModelStatus };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { authenticated: boolean, name: string | null, role: ApiTokenRole | null } };
