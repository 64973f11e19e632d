/**
 * Tags: what a cached answer or a shared read depends on, in the change feed's terms (`table` or
 * `table:id`). The static rule of each resolved field is here; the tags of screening answers are
 * made where those answers are read (src/store/change-feed.ts: services below the GraphQL layer
 * tag their shared reads with them) and re-exported for the resolvers.
 */
export { fastReferenceTags, screeningTags, similarityTags } from '../../store/change-feed.js';

// ---------------------------------------------------------------------------------------------
// Rules: what each field with a resolver reads

/**
 * For each field that has a resolver (`@Query`, `@FieldResolver`): the tables its answer depends on
 * beyond what the resolvers add themselves (`dependsOn`: rows by id, a model's tags once it is
 * resolved) and the rows of the Material and Label objects it returns (those tag results
 * themselves); `'dynamic'` when the resolver adds all its tags, or `'never'`.
 * Plain fields of an object need no entry; a root field without one is not cached. A field that
 * needs a role must be `'never'`: a cached result is shared by every caller (a test checks).
 */
export const FIELD_RULES: Readonly<Record<string, readonly string[] | 'dynamic' | 'never'>> = {
  // Materials and labels
  'Query.material': 'dynamic',
  'Query.materials': ['material', 'label', 'embedding', 'model'],
  'Query.label': ['label'],
  'Query.labels': ['label', 'material'],
  'Material.lattice': [],
  'Material.sites': [],
  'Material.label': [],
  'Material.labels': [],
  'Material.cif': [],
  'Material.json': [],
  'Material.properties': [],
  'Material.property': [],
  'Material.oxidationStates': [],
  'Material.embedding': ['embedding', 'model'],
  'Label.material': [],
  // Screening: the resolvers add the tags of the model they ranked with.
  'Query.screen': 'dynamic',
  // Of the ranking their connection's `screen` tagged.
  'ScreeningConnection.totalCount': [],
  'ScreeningConnection.leftOut': [],
  'ScreeningEdge.node': [],
  'ScreeningEdge.nearestFast': 'dynamic',
  'ScreeningResult.nearestFast': 'dynamic',
  'ScreeningResult.outOfDomain': 'dynamic',
  'ScreeningResult.nearestReferenceDistance': 'dynamic',
  'ScreeningResult.domainRadius': 'dynamic',
  'Neighbor.material': [],
  'Material.screening': 'dynamic',
  'Query.similarMaterials': 'dynamic',
  'Material.similar': 'dynamic',
  // An uploaded structure is embedded on the fly: large keys, rare repeats.
  'Query.scoreStructure': 'never',
  // Formulas are short, but a score depends on every reference: the resolver does not tag it.
  'Query.scoreComposition': 'never',
  // Models
  'Query.models': ['model', 'job'],
  'Query.model': ['model', 'job'],
  'Query.activeModel': ['model', 'job'],
  // Answers depend on the caller.
  'Query.apiTokens': 'never',
  'Query.viewer': 'never',
  // Jobs (admins only; progress changes every page).
  'Query.job': 'never',
  'Job.optimadeImport': [],
};

