/**
 * Public API of the structure module (the contract other modules code against).
 * Implementations live beside this file, one concept per file.
 */
export * from './structure.js';

export type { CompositionFacts, LatticeParameters, ParseOptions, StructureFacts } from './types.js';

// parseStructure(format, text, opts?): Structure
export { parseStructure, DEFAULT_MAX_TEXT_BYTES } from './parse.js';
// describeStructure(s): StructureFacts; cartesianPositions(s): Float64Array [nsites*3] Å
export { describeStructure, cartesianPositions, structureHash, cellAmounts, isOrdered } from './facts.js';
// parseComposition(text): CompositionFacts
export { parseComposition, compositionFacts, formulaString, reducedFormulaString, formatAmount } from './composition.js';
export type { Amounts } from './composition.js';
export { structureToCif } from './cif-writer.js';
export { cifStructureBlocks } from './cif.js';
export { structureToPoscar } from './poscar-writer.js';
export { optimadeProviderPrefix, readOptimadeEntry, readOptimadeList, structureToJson } from './optimade-json.js';
export type { OptimadeListEntry } from './optimade-json.js';
export type { OptimadeStructureAttributes } from './optimade-json.js';
export {
  latticeParameters,
  latticeVolume,
  latticeDeterminant,
  latticeFromParameters,
  invertMat3,
  fracToCart,
  cartToFrac,
  wrapFrac,
  wrapVec3,
} from './lattice.js';
export {
  ELEMENTS,
  elementBySymbol,
  elementByNumber,
  findElement,
  elementFromLabel,
  compareByElectronegativity,
} from './elements.js';
export type { ElementData } from './elements.js';
export { mergeCoLocatedSites, SITE_TOLERANCE_FRAC } from './merge-sites.js';
export { validateStructure, isStorableText, DEFAULT_MAX_SITES, OCCUPANCY_TOLERANCE, MIN_CELL_VOLUME_A3, MIN_OCCUPANCY } from './validate.js';
export {
  parseSymmetryOperation,
  operationsFromSpaceGroupNumber,
  operationsFromHmSymbol,
  applyOperation,
  spaceGroupOf,
  SPACE_GROUP_SYMPREC,
} from './symmetry-ops.js';
export type { SymmetryOperation, SpaceGroup } from './symmetry-ops.js';
