/**
 * Screening's public API for the GraphQL layer, the CLI and the trainer: src/screening/ (its
 * index.ts explains the design).
 */
export * from '../screening/index.js';
export { labelMaterial as labelMaterialWithScreening, retractLabel as retractLabelWithScreening } from '../screening/engine.js';
