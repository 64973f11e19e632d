/** Public API of the scoring module: the conductor score and its decision threshold. */
export * from './score.js';
export * from './threshold.js';
export * from './operating-points.js';
