/**
 * Public training entry points of the ML core (fit, losses, pair planning). D2's evaluation,
 * metrics and splits live beside this file and import from here.
 */
export { fit, type FitOptions, type FitResult, type EpochPoint, type EpochProgress, type BinaryLabel } from './fit.js';
export { contrastivePairLoss, pairLossHost, crossEntropyLoss, type ContrastiveOptions } from './loss.js';
export { planPairs, epochSteps, type ValidationSpec, type PairPlan, type Step } from './batching.js';
export { paperHyperparameters, trainDefaultHyperparameters, type Hyperparameters } from '../model/hyperparameters.js';
