/**
 * Every GraphQL document the dashboard sends, in one place, so that a renamed API field is fixed here.
 * Names follow the contract of issues 2 (materials, labels), 3 (models, training) and 4 (screening).
 *
 * Input objects whose type names the contract does not fix (screen's filter, similarMaterials' input,
 * trainModel's input) are written inline with variables of known types (StructureInput, LabelFilter,
 * ID, Int, Float, String), so the documents do not depend on those type names.
 */

const LABEL_FIELDS = /* GraphQL */ `
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
`;

const MATERIAL_SUMMARY = /* GraphQL */ `
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
`;

const NEIGHBOR_FIELDS = /* GraphQL */ `
  rank
  distance
  material { id formula reducedFormula label { id class conductivity } }
`;

/** Schema facts the dashboard adapts to: which root fields exist, and a few type shapes. */
export const CAPABILITIES = /* GraphQL */ `
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
`;

/** Fields of one named type with their leaf-ness, for selecting a payload whose shape may vary. */
export const TYPE_FIELDS = /* GraphQL */ `
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
`;

/** Return types of the subscription fields (to select the trainingProgress payload). */
export const SUBSCRIPTION_FIELDS = /* GraphQL */ `
  query SubscriptionFields {
    __schema { subscriptionType { fields { name type { kind name ofType { kind name ofType { kind name } } } } } }
  }
`;

/** Unlabelled candidates ranked by score R under a model (issue 4, `Query.screen`). */
export const SCREEN = /* GraphQL */ `
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
        nearestFast(k: $nearestK) { ${NEIGHBOR_FIELDS} }
        node { ${MATERIAL_SUMMARY} }
      }
    }
  }
`;

/** Only scores of a ranking (the histogram of candidates). */
export const SCREEN_SCORES = /* GraphQL */ `
  query ScreenScores($modelId: ID, $first: Int!, $after: String) {
    screen(modelId: $modelId, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { score node { id formula } }
    }
  }
`;

/** Materials without a ranking (issue 2): the Candidates view's fallback when no model can screen. */
export const MATERIALS = /* GraphQL */ `
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
      edges { cursor node { ${MATERIAL_SUMMARY} } }
    }
  }
`;

/** Labelled materials with their own score under a model (the histogram of known FAST / POOR). */
export const LABELLED_SCORES = /* GraphQL */ `
  query LabelledScores($label: LabelFilter!, $modelId: ID, $first: Int!, $after: String) {
    materials(filter: { label: $label }, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id formula screening(modelId: $modelId) { score } } }
    }
  }
`;

/**
 * Embeddings for the PCA map. `Material.embedding(modelId)` is not in the contract of issues 3/4:
 * the dashboard needs it (or an equivalent) and says so when the schema lacks it.
 */
export const EMBEDDINGS = /* GraphQL */ `
  query Embeddings($label: LabelFilter, $modelId: ID, $first: Int!, $after: String) {
    materials(filter: { label: $label }, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id formula label { id class } embedding(modelId: $modelId) } }
    }
  }
`;

export const MATERIAL = /* GraphQL */ `
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
      label { ${LABEL_FIELDS} }
      labels { ${LABEL_FIELDS} }
    }
  }
`;

export const MATERIAL_CIF = /* GraphQL */ `
  query MaterialCif($id: ID!) {
    material(id: $id) { id formula cif }
  }
`;

const SCORE_FIELDS = /* GraphQL */ `
  score
  predictedClass
  meanDistanceToFast
  meanDistanceToPoor
  outOfDomain
  nearestReferenceDistance
  domainRadius
  nearestFast(k: $k) { ${NEIGHBOR_FIELDS} }
`;

/** A material's score and neighbours (issue 4, `Material.screening` and `Material.similar`). */
export const MATERIAL_SCREENING = /* GraphQL */ `
  query MaterialScreening($id: ID!, $k: Int!) {
    material(id: $id) {
      id
      screening { ${SCORE_FIELDS} }
      similar(k: $k) { ${NEIGHBOR_FIELDS} }
    }
  }
`;

export const LABEL_MATERIAL = /* GraphQL */ `
  mutation LabelMaterial($input: LabelMaterialInput!) {
    labelMaterial(input: $input) { ${LABEL_FIELDS} }
  }
`;

export const RETRACT_LABEL = /* GraphQL */ `
  mutation RetractLabel($id: ID!, $reason: String) {
    retractLabel(id: $id, reason: $reason) { ${LABEL_FIELDS} }
  }
`;

export const ADD_MATERIALS = /* GraphQL */ `
  mutation AddMaterials($inputs: [AddMaterialInput!]!) {
    addMaterials(inputs: $inputs) { id formula }
  }
`;


/** A structure not in the store: its score and its nearest known FAST conductors (issue 4). */
export const SCORE_STRUCTURE = /* GraphQL */ `
  query ScoreStructure($structure: StructureInput!, $k: Int!) {
    scoreStructure(structure: $structure) { ${SCORE_FIELDS} }
    similarMaterials(input: { structure: $structure, k: $k }) { ${NEIGHBOR_FIELDS} }
  }
`;

/** A formula alone, through the model's composition pathway (issue 14). */
export const SCORE_COMPOSITION = /* GraphQL */ `
  query ScoreComposition($formula: String!, $k: Int!) {
    scoreComposition(formula: $formula) { ${SCORE_FIELDS} }
  }
`;

const DECISION_FIELDS = 'threshold protocol heldOut label precision recall falsePositiveRate balancedAccuracy n';

const MODEL_SUMMARY = /* GraphQL */ `
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
  decision { ${DECISION_FIELDS} }
`;

export const MODELS = /* GraphQL */ `
  query Models {
    models { ${MODEL_SUMMARY} }
  }
`;

export const ACTIVE_MODEL = /* GraphQL */ `
  query ActiveModel {
    activeModel { id name status metrics { protocol threshold } }
  }
`;

/** The active model's decision threshold and what to expect at it (shown where predicted classes appear). */
export const ACTIVE_DECISION = /* GraphQL */ `
  query ActiveDecision {
    activeModel { id threshold noHeldOutReason decision { ${DECISION_FIELDS} } }
  }
`;

/** The active model's out-of-fold scores of its training materials (Plots). */
export const ACTIVE_OUT_OF_FOLD = /* GraphQL */ `
  query ActiveOutOfFold {
    activeModel { id threshold decision { threshold protocol } outOfFoldScores { materialId label score } }
  }
`;

/** One model in full. `hyperparameters` is selected as given by `hyperparametersSelection` (a JSON scalar or an object). */
export function modelDocument(hyperparametersSelection: string): string {
  return /* GraphQL */ `
    query Model($id: ID!) {
      model(id: $id) {
        ${MODEL_SUMMARY}
        hyperparameters ${hyperparametersSelection}
        trainingCurve { epoch trainLoss validationLoss }
        decision { ${DECISION_FIELDS} operatingPoints { threshold precision recall falsePositiveRate predictedFastRate } }
      }
    }
  `;
}

export const ACTIVATE_MODEL = /* GraphQL */ `
  mutation ActivateModel($id: ID!) {
    activateModel(id: $id) { id isActive status }
  }
`;

export const CANCEL_TRAINING = /* GraphQL */ `
  mutation CancelTraining($id: ID!) {
    cancelTraining(id: $id) { id status }
  }
`;

export const DISTANCES = ['EUCLIDEAN', 'COSINE'] as const;
export const EVALUATIONS = ['NONE', 'LOO', 'GROUP_KFOLD'] as const;

/** trainModel with enum values written as literals (their enum type names are not in the contract). */
export function trainModelDocument(distance: (typeof DISTANCES)[number], evaluation: (typeof EVALUATIONS)[number]): string {
  if (!DISTANCES.includes(distance) || !EVALUATIONS.includes(evaluation)) throw new Error('unknown distance or evaluation');
  return /* GraphQL */ `
    mutation TrainModel($name: String!, $k: Int, $maxEpochs: Int, $patience: Int, $seed: Int) {
      trainModel(input: { name: $name, k: $k, maxEpochs: $maxEpochs, patience: $patience, seed: $seed, distance: ${distance}, evaluation: ${evaluation} }) {
        id
        name
        status
      }
    }
  `;
}

/** Live training progress; the payload is selected from its type's leaf fields (see Models view). */
export function trainingProgressDocument(payloadSelection: string): string {
  return /* GraphQL */ `
    subscription TrainingProgress($modelId: ID!) {
      trainingProgress(modelId: $modelId) ${payloadSelection}
    }
  `;
}

/** Who the stored API token stands for (README "Access control"). */
export const VIEWER = /* GraphQL */ `
  query Viewer {
    viewer { authenticated name role }
  }
`;
