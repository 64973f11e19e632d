/** Public API of the model module (TF.js lives here and in src/training only). */
export { initBackend, type BackendInfo, type BackendPreference } from './backend.js';
export {
  paperHyperparameters,
  trainDefaultHyperparameters,
  slotHyperparameters,
  readsCompositions,
  HYPERPARAMETER_PRESETS,
  type PresetName,
  resolveHyperparameters,
  resolveStoredHyperparameters,
  embeddingWidth,
  graphOptions,
  type Hyperparameters,
  type DistanceMetric,
  type TrainingObjective,
  type BackboneName,
  type PairSchedule,
} from './hyperparameters.js';
export { createModel, forward, makeModelBatch, BACKBONE_VERSION, SMOOTH_BACKBONE_VERSION, backboneVersion, type KnagcnModel, type ModelInfo, type ModelBatch } from './backbone.js';
export { makeGraphBatch, type GraphBatch } from './batch.js';
export { embedStructures, embedStructureBatch, classifyStructures, type EmbedOptions, type StructureEmbeddings } from './embed.js';
export { saveArtifact, loadModel, ARTIFACT_FORMAT, type ModelArtifact } from './artifact.js';
