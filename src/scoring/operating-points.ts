/**
 * What a decision threshold on the score R buys: precision, recall and false-positive rate of
 * "FAST when R > threshold" on scores whose labels are known. Meant for out-of-fold scores (each
 * row scored by a model that did not train on it); on training scores the figures are optimistic.
 */
import { BadInputError } from '../errors.js';
import { calibrateThreshold } from './threshold.js';

export interface OperatingPoint {
  threshold: number;
  /** TP / (TP + FP); null when nothing is predicted FAST. */
  precision: number | null;
  /** Recall of FAST: TP / (TP + FN). */
  recall: number;
  /** FP / (FP + TN): the share of POOR rows predicted FAST. */
  falsePositiveRate: number;
  /** Share of all rows predicted FAST. */
  predictedFastRate: number;
}

/** The confusion figures of one threshold. */
export function operatingPoint(scores: readonly number[], labels: readonly (0 | 1)[], threshold: number): OperatingPoint {
  if (scores.length !== labels.length) throw new BadInputError('scores and labels differ in length');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  scores.forEach((s, i) => {
    const fast = s > threshold;
    if (labels[i] === 1) fast ? tp++ : fn++;
    else fast ? fp++ : tn++;
  });
  return {
    threshold,
    precision: tp + fp > 0 ? tp / (tp + fp) : null,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
    falsePositiveRate: fp + tn > 0 ? fp / (fp + tn) : 0,
    predictedFastRate: scores.length > 0 ? (tp + fp) / scores.length : 0,
  };
}

/**
 * A table of operating points: `count` thresholds at evenly spaced quantiles of the scores (each
 * the midpoint between two neighbouring distinct scores, so no row sits on one), plus `extra`
 * thresholds (the chosen one, the paper's 1). Sorted by threshold; duplicates dropped.
 */
export function operatingCurve(scores: readonly number[], labels: readonly (0 | 1)[], count = 19, extra: readonly number[] = []): OperatingPoint[] {
  const sorted = [...new Set(scores.filter((s) => Number.isFinite(s)))].sort((a, b) => a - b);
  const thresholds = new Set<number>(extra.filter((t) => Number.isFinite(t)));
  if (sorted.length >= 2) {
    for (let q = 1; q <= count; q++) {
      const i = Math.min(sorted.length - 2, Math.floor((q / (count + 1)) * (sorted.length - 1)));
      thresholds.add((sorted[i]! + sorted[i + 1]!) / 2);
    }
  }
  return [...thresholds].sort((a, b) => a - b).map((t) => operatingPoint(scores, labels, t));
}

export interface ChosenDecision extends OperatingPoint {
  /** Balanced accuracy at the threshold on the same scores. */
  balancedAccuracy: number;
  curve: OperatingPoint[];
}

/**
 * The max-balanced-accuracy threshold on these scores (threshold.ts), its operating point and a
 * curve. Chosen and measured on the same scores: one parameter fitted, so mildly optimistic.
 */
export function chooseDecision(scores: readonly number[], labels: readonly (0 | 1)[], extra: readonly number[] = []): ChosenDecision {
  const { threshold, balancedAccuracy } = calibrateThreshold(scores, labels);
  return { ...operatingPoint(scores, labels, threshold), balancedAccuracy, curve: operatingCurve(scores, labels, 19, [threshold, ...extra]) };
}
