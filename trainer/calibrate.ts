/**
 * Decision threshold and training-set metrics of a freshly trained model.
 *
 * Scores are the distance ratio R (src/scoring) of each training crystal against all the other
 * training crystals (leave-self-out: a crystal's zero distance to itself would otherwise inflate
 * its own class). The threshold maximises balanced accuracy on those scores. Metrics computed
 * this way are optimistic — training pulled these very embeddings into their class clusters —
 * so they carry `protocol: 'TRAIN'` ("fit to the training data") and are never a held-out estimate.
 * With a held-out evaluation (evaluation.ts) the threshold comes from out-of-fold scores instead.
 */
import { leaveSelfOutScores, chooseDecision, DEFAULT_THRESHOLD, type RatioDistance } from '../src/scoring/index.js';
import { metricsAtThreshold, type BinaryLabel } from '../src/training/metrics.js';
import { decisionLabel, metricsLabel, type MetricsProtocol, type ModelDecision, type ModelMetrics } from '../src/services/models.js';

export interface Calibration {
  threshold: number;
  /** Protocol TRAIN. */
  metrics: ModelMetrics;
  /** The threshold's precision/recall on the same (training) scores. */
  decision: ModelDecision;
}

/** Leave-self-out R scores, the balanced-accuracy threshold and metrics at that threshold. */
export function calibrateOnTrainingSet(
  embeddings: readonly ArrayLike<number>[],
  labels: readonly BinaryLabel[],
  distance: RatioDistance,
): Calibration {
  const scores = leaveSelfOutScores(embeddings, labels, distance.metric, undefined, distance.scale).map((r) => r.score);
  const decision = decisionOn('TRAIN', scores, labels);
  return { threshold: decision.threshold, decision, metrics: toModelMetrics('TRAIN', metricsAtThreshold(scores, labels, decision.threshold)) };
}

/** The max-balanced-accuracy threshold on these scores and what to expect at it (and elsewhere). */
export function decisionOn(protocol: MetricsProtocol, scores: readonly number[], labels: readonly BinaryLabel[]): ModelDecision {
  const chosen = chooseDecision(scores, labels, [DEFAULT_THRESHOLD]);
  const decision: ModelDecision = {
    threshold: chosen.threshold,
    protocol,
    heldOut: protocol !== 'TRAIN',
    precision: chosen.precision,
    recall: chosen.recall,
    falsePositiveRate: chosen.falsePositiveRate,
    balancedAccuracy: chosen.balancedAccuracy,
    n: scores.length,
    operatingPoints: chosen.curve,
    label: '',
  };
  decision.label = decisionLabel(decision);
  return decision;
}

export function toModelMetrics(
  protocol: MetricsProtocol,
  m: { accuracy: number; sensitivity: number; specificity: number; balancedAccuracy: number; rocAuc: number; prAuc: number; threshold: number; n: number },
  extra: { note?: string; folds?: number | null; seeds?: number[] | null; source?: string | null; rocAucSd?: number | null } = {},
): ModelMetrics {
  const metrics: ModelMetrics = {
    protocol,
    heldOut: protocol !== 'TRAIN',
    accuracy: m.accuracy,
    sensitivity: m.sensitivity,
    specificity: m.specificity,
    balancedAccuracy: m.balancedAccuracy,
    rocAuc: m.rocAuc,
    rocAucSd: extra.rocAucSd ?? null,
    prAuc: m.prAuc,
    threshold: m.threshold,
    n: m.n,
    folds: extra.folds ?? null,
    seeds: extra.seeds ?? null,
    source: extra.source ?? null,
    ...(extra.note ? { note: extra.note } : {}),
    label: '',
  };
  metrics.label = metricsLabel(metrics);
  return metrics;
}
