/** Public API of the features module: element table, atom one-hot features, continuous descriptors. */
export * from './element-table.js';
export * from './atom-features.js';
export * from './element-property-vector.js';
export * from './gaussian-basis.js';
export * from './composition-features.js';
