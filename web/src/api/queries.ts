/**
 * Every GraphQL document the dashboard sends, in one place, so that a renamed API field is fixed here.
 * Names follow the contract of issues 2 (materials, labels), 3 (models, training) and 4 (screening).
 *
 * Input objects whose type names the contract does not fix (screen's filter, similarMaterials' input,
 * trainModel's input) are written inline with variables of known types (StructureInput, LabelFilter,
 * ID, Int, Float, String), so the documents do not depend on those type names.
 *
 * Each static document is typed: `npm run codegen` (GraphQL Code Generator) reads the texts marked
 * `/* GraphQL *\/` here against schema/schema.graphql and writes their result and variables types
 * to graphql.ts. Shared selections are fragments, for the generated types; `typed` inlines them, so
 * the text sent is one operation without fragments (the server's depth limit counts each spread).
 */
import type * as G from './graphql.js';
import { fragment, typed, type TypedString } from './typed.js';

fragment(/* GraphQL */ `
  fragment LabelFields on Label {
    id
    class
    conductivity
    temperature
    source
    reason
    createdBy
    createdAt
    retracted
    retraction { reason createdBy createdAt }
  }
`);

fragment(/* GraphQL */ `
  fragment MaterialSummaryFields on Material {
    id
    name
    source
    sourceId
    sourceUrl
    formula
    reducedFormula
    elements
    nsites
    kind
    chargeBalanced
    label { id class }
  }
`);

fragment(/* GraphQL */ `
  fragment NeighborFields on Neighbor {
    rank
    distance
    material { id formula reducedFormula label { id class conductivity } }
  }
`);

/** Schema facts the dashboard adapts to: which root fields exist, and a few type shapes. */
export const CAPABILITIES = typed<G.CapabilitiesQuery, G.CapabilitiesQueryVariables>(/* GraphQL */ `
  query Capabilities {
    __schema {
      queryType { fields { name } }
      mutationType { fields { name } }
      subscriptionType { fields { name } }
    }
    material: __type(name: "Material") { fields { name } }
    model: __type(name: "Model") {
      fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
    }
  }
`);

/** Fields of one named type with their leaf-ness, for selecting a payload whose shape may vary. */
export const TYPE_FIELDS = typed<G.TypeFieldsQuery, G.TypeFieldsQueryVariables>(/* GraphQL */ `
  query TypeFields($name: String!) {
    __type(name: $name) {
      kind
      fields {
        name
        args { name type { kind } }
        type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
      }
    }
  }
`);

/** Return types of the subscription fields (to select the trainingProgress payload). */
export const SUBSCRIPTION_FIELDS = typed<G.SubscriptionFieldsQuery, G.SubscriptionFieldsQueryVariables>(/* GraphQL */ `
  query SubscriptionFields {
    __schema { subscriptionType { fields { name type { kind name ofType { kind name ofType { kind name } } } } } }
  }
`);

/** Unlabelled candidates ranked by score R under a model (issue 4, `Query.screen`). */
export const SCREEN = typed<G.ScreenQuery, G.ScreenQueryVariables>(/* GraphQL */ `
  query Screen(
    $modelId: ID
    $elementsHasAll: [String!]
    $elementsHasOnly: [String!]
    $label: LabelFilter
    $chargeBalanced: Boolean
    $hasAnion: Boolean
    $minScore: Float
    $first: Int!
    $after: String
    $nearestK: Int!
  ) {
    screen(
      modelId: $modelId
      filter: { elementsHasAll: $elementsHasAll, elementsHasOnly: $elementsHasOnly, label: $label, chargeBalanced: $chargeBalanced, hasAnion: $hasAnion }
      minScore: $minScore
      first: $first
      after: $after
    ) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        rank
        score
        predictedClass
        meanDistanceToFast
        meanDistanceToPoor
        nearestFast(k: $nearestK) { ...NeighborFields }
        node { ...MaterialSummaryFields }
      }
    }
  }
`);

/** Only scores of a ranking (the histogram of candidates). */
export const SCREEN_SCORES = typed<G.ScreenScoresQuery, G.ScreenScoresQueryVariables>(/* GraphQL */ `
  query ScreenScores($modelId: ID, $first: Int!, $after: String) {
    screen(modelId: $modelId, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { score node { id formula } }
    }
  }
`);

/** Materials without a ranking (issue 2): the Candidates view's fallback when no model can screen. */
export const MATERIALS = typed<G.MaterialsQuery, G.MaterialsQueryVariables>(/* GraphQL */ `
  query Materials(
    $elementsHasAll: [String!]
    $elementsHasOnly: [String!]
    $label: LabelFilter
    $chargeBalanced: Boolean
    $hasAnion: Boolean
    $first: Int!
    $after: String
  ) {
    materials(
      filter: { elementsHasAll: $elementsHasAll, elementsHasOnly: $elementsHasOnly, label: $label, chargeBalanced: $chargeBalanced, hasAnion: $hasAnion }
      first: $first
      after: $after
    ) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...MaterialSummaryFields } }
    }
  }
`);

/** Labelled materials with their own score under a model (the histogram of known FAST / POOR). */
export const LABELLED_SCORES = typed<G.LabelledScoresQuery, G.LabelledScoresQueryVariables>(/* GraphQL */ `
  query LabelledScores($label: LabelFilter!, $modelId: ID, $first: Int!, $after: String) {
    materials(filter: { label: $label }, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id formula screening(modelId: $modelId) { score } } }
    }
  }
`);

/**
 * Embeddings for the PCA map. `Material.embedding(modelId)` is not in the contract of issues 3/4:
 * the dashboard needs it (or an equivalent) and says so when the schema lacks it.
 */
export const EMBEDDINGS = typed<G.EmbeddingsQuery, G.EmbeddingsQueryVariables>(/* GraphQL */ `
  query Embeddings($label: LabelFilter, $modelId: ID, $first: Int!, $after: String) {
    materials(filter: { label: $label }, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id formula label { id class } embedding(modelId: $modelId) } }
    }
  }
`);

export const MATERIAL = typed<G.MaterialQuery, G.MaterialQueryVariables>(/* GraphQL */ `
  query Material($id: ID!) {
    material(id: $id) {
      id
      name
      source
      sourceId
      sourceUrl
      aliases { name source sourceId createdBy createdAt }
      spaceGroupNumber
      spaceGroupSymbol
      chargeBalanced
      hasAnion
      hasReducibleTransitionMetal
      oxidationStates { element state fraction }
      properties { name value unit source }
      retiredAt
      retiredBy
      retiredReason
      family
      kind
      formula
      reducedFormula
      elements
      nelements
      nsites
      natoms
      isOrdered
      volume
      density
      structureHash
      createdAt
      lattice { vectors a b c alpha beta gamma }
      sites { label frac species { element occupancy } }
      label { ...LabelFields }
      labels { ...LabelFields }
    }
  }
`);

export const MATERIAL_CIF = typed<G.MaterialCifQuery, G.MaterialCifQueryVariables>(/* GraphQL */ `
  query MaterialCif($id: ID!) {
    material(id: $id) { id formula cif }
  }
`);

fragment(/* GraphQL */ `
  fragment ScoreFields on ScreeningResult {
    score
    predictedClass
    meanDistanceToFast
    meanDistanceToPoor
    outOfDomain
    nearestReferenceDistance
    domainRadius
    nearestFast(k: $k) { ...NeighborFields }
  }
`);

/** A material's score and neighbours (issue 4, `Material.screening` and `Material.similar`). */
export const MATERIAL_SCREENING = typed<G.MaterialScreeningQuery, G.MaterialScreeningQueryVariables>(/* GraphQL */ `
  query MaterialScreening($id: ID!, $k: Int!) {
    material(id: $id) {
      id
      screening { ...ScoreFields }
      similar(k: $k) { ...NeighborFields }
    }
  }
`);

export const LABEL_MATERIAL = typed<G.LabelMaterialMutation, G.LabelMaterialMutationVariables>(/* GraphQL */ `
  mutation LabelMaterial($input: LabelMaterialInput!) {
    labelMaterial(input: $input) { ...LabelFields }
  }
`);

export const RETRACT_LABEL = typed<G.RetractLabelMutation, G.RetractLabelMutationVariables>(/* GraphQL */ `
  mutation RetractLabel($id: ID!, $reason: String) {
    retractLabel(id: $id, reason: $reason) { ...LabelFields }
  }
`);

export const ADD_MATERIALS = typed<G.AddMaterialsMutation, G.AddMaterialsMutationVariables>(/* GraphQL */ `
  mutation AddMaterials($inputs: [AddMaterialInput!]!) {
    addMaterials(inputs: $inputs) { id formula }
  }
`);


/** A structure not in the store: its score and its nearest known FAST conductors (issue 4). */
export const SCORE_STRUCTURE = typed<G.ScoreStructureQuery, G.ScoreStructureQueryVariables>(/* GraphQL */ `
  query ScoreStructure($structure: StructureInput!, $k: Int!) {
    scoreStructure(structure: $structure) { ...ScoreFields }
    similarMaterials(input: { structure: $structure, k: $k }) { ...NeighborFields }
  }
`);

/** A formula alone, through the model's composition pathway (issue 14). */
export const SCORE_COMPOSITION = typed<G.ScoreCompositionQuery, G.ScoreCompositionQueryVariables>(/* GraphQL */ `
  query ScoreComposition($formula: String!, $k: Int!) {
    scoreComposition(formula: $formula) { ...ScoreFields }
  }
`);

fragment(/* GraphQL */ `
  fragment DecisionFields on ModelDecision { threshold protocol heldOut label precision recall falsePositiveRate balancedAccuracy n }
`);

fragment(/* GraphQL */ `
  fragment ModelSummaryFields on Model {
    id
    name
    status
    isActive
    backend
    createdAt
    startedAt
    finishedAt
    error
    labelCounts { fast poor }
    progress { phase fold folds epoch maxEpochs trainLoss validationLoss etaSeconds }
    metrics { protocol heldOut label folds seeds rocAucSd source note accuracy sensitivity specificity balancedAccuracy rocAuc prAuc threshold n }
    heldOutMetrics { protocol label rocAuc rocAucSd }
    noHeldOutReason
    threshold
    distanceScale
    decision { ...DecisionFields }
  }
`);

export const MODELS = typed<G.ModelsQuery, G.ModelsQueryVariables>(/* GraphQL */ `
  query Models {
    models { ...ModelSummaryFields }
  }
`);

export const ACTIVE_MODEL = typed<G.ActiveModelQuery, G.ActiveModelQueryVariables>(/* GraphQL */ `
  query ActiveModel {
    activeModel { id name status metrics { protocol threshold } }
  }
`);

/** The active model's decision threshold and what to expect at it (shown where predicted classes appear). */
export const ACTIVE_DECISION = typed<G.ActiveDecisionQuery, G.ActiveDecisionQueryVariables>(/* GraphQL */ `
  query ActiveDecision {
    activeModel { id threshold noHeldOutReason decision { ...DecisionFields } }
  }
`);

/** The active model's out-of-fold scores of its training materials (Plots). */
export const ACTIVE_OUT_OF_FOLD = typed<G.ActiveOutOfFoldQuery, G.ActiveOutOfFoldQueryVariables>(/* GraphQL */ `
  query ActiveOutOfFold {
    activeModel { id threshold decision { threshold protocol } outOfFoldScores { materialId label score } }
  }
`);

/** One model in full, with `hyperparameters` a JSON scalar (what this schema has). */
const MODEL = typed<G.ModelQuery, G.ModelQueryVariables>(/* GraphQL */ `
  query Model($id: ID!) {
    model(id: $id) {
      ...ModelSummaryFields
      hyperparameters
      trainingCurve { epoch trainLoss validationLoss }
      decision { ...DecisionFields operatingPoints { threshold precision recall falsePositiveRate predictedFastRate } }
    }
  }
`);

/** One model in full. `hyperparameters` is selected as given by `hyperparametersSelection` (a JSON scalar or an object). */
export function modelDocument(hyperparametersSelection: string): typeof MODEL {
  return hyperparametersSelection ? MODEL.replace(/\bhyperparameters\b/, `hyperparameters ${hyperparametersSelection}`) : MODEL;
}

export const ACTIVATE_MODEL = typed<G.ActivateModelMutation, G.ActivateModelMutationVariables>(/* GraphQL */ `
  mutation ActivateModel($id: ID!) {
    activateModel(id: $id) { id isActive status }
  }
`);

export const CANCEL_TRAINING = typed<G.CancelTrainingMutation, G.CancelTrainingMutationVariables>(/* GraphQL */ `
  mutation CancelTraining($id: ID!) {
    cancelTraining(id: $id) { id status }
  }
`);

export const DISTANCES = ['EUCLIDEAN', 'COSINE'] as const;
export const EVALUATIONS = ['NONE', 'LOO', 'GROUP_KFOLD'] as const;

/** What the dashboard reads of a model it queued. */
fragment(/* GraphQL */ `
  fragment QueuedModel on Model { id name status }
`);

interface TrainModelVariables {
  name: string;
  k?: number | null;
  maxEpochs?: number | null;
  patience?: number | null;
  seed?: number | null;
}

/**
 * trainModel with enum values written as literals (their enum type names are not in the contract).
 * Built at run time, so it has no generated type of its own: its result is the QueuedModel fragment.
 */
export function trainModelDocument(
  distance: (typeof DISTANCES)[number],
  evaluation: (typeof EVALUATIONS)[number],
): TypedString<{ trainModel: G.QueuedModelFragment }, TrainModelVariables> {
  if (!DISTANCES.includes(distance) || !EVALUATIONS.includes(evaluation)) throw new Error('unknown distance or evaluation');
  return typed(`
    mutation TrainModel($name: String!, $k: Int, $maxEpochs: Int, $patience: Int, $seed: Int) {
      trainModel(input: { name: $name, k: $k, maxEpochs: $maxEpochs, patience: $patience, seed: $seed, distance: ${distance}, evaluation: ${evaluation} }) {
        ...QueuedModel
      }
    }
  `);
}

/** Live training progress; the payload is selected from its type's leaf fields at run time (see Models view), so it is not typed. */
export function trainingProgressDocument(payloadSelection: string): string {
  return `
    subscription TrainingProgress($modelId: ID!) {
      trainingProgress(modelId: $modelId) ${payloadSelection}
    }
  `;
}

/** Who the stored API token stands for (README "Access control"). */
export const VIEWER = typed<G.ViewerQuery, G.ViewerQueryVariables>(/* GraphQL */ `
  query Viewer {
    viewer { authenticated name role }
  }
`);
