/**
 * Decision threshold and training-set metrics of a freshly trained model.
 *
 * Scores are the distance ratio R (src/scoring) of each training crystal against all the other
 * training crystals (leave-self-out: a crystal's zero distance to itself would otherwise inflate
 * its own class). The threshold maximises balanced accuracy on those scores. Metrics computed
 * this way are optimistic — training pulled these very embeddings into their class clusters —
 * so they carry `protocol: 'TRAIN'` and must not be read as a held-out estimate.
 */
import { leaveSelfOutScores, calibrateThreshold, type DistanceMetric } from '../src/scoring/index.js';
import { metricsAtThreshold, type BinaryLabel } from '../src/training/metrics.js';
import type { ModelMetrics } from '../src/services/models.js';

export interface Calibration {
  threshold: number;
  metrics: ModelMetrics;
}

/** Leave-self-out R scores, the balanced-accuracy threshold and metrics at that threshold. */
export function calibrateOnTrainingSet(
  embeddings: readonly ArrayLike<number>[],
  labels: readonly BinaryLabel[],
  distance: DistanceMetric,
): Calibration {
  const scores = leaveSelfOutScores(embeddings, labels, distance).map((r) => r.score);
  const { threshold } = calibrateThreshold(scores, labels);
  return { threshold, metrics: toModelMetrics('TRAIN', metricsAtThreshold(scores, labels, threshold)) };
}

export function toModelMetrics(
  protocol: ModelMetrics['protocol'],
  m: { accuracy: number; sensitivity: number; specificity: number; balancedAccuracy: number; rocAuc: number; prAuc: number; threshold: number; n: number },
  note?: string,
): ModelMetrics {
  return {
    protocol,
    accuracy: m.accuracy,
    sensitivity: m.sensitivity,
    specificity: m.specificity,
    balancedAccuracy: m.balancedAccuracy,
    rocAuc: m.rocAuc,
    prAuc: m.prAuc,
    threshold: m.threshold,
    n: m.n,
    ...(note ? { note } : {}),
  };
}
