/** Public API of the graph module. */
export * from './crystal-graph.js';
export { kNearestNeighbours, wrappedFractional, TIE_QUANTUM_ANGSTROM, type NeighbourList } from './neighbours.js';
