/**
 * Binary classification metrics, as reported in Table 1 of the contrastive-metric-learning
 * paper. The positive class is FAST (label 1); POOR is 0. Scores: higher = more FAST-like.
 */
import { BadInputError } from '../errors.js';

import type { BinaryLabel } from '../domain.js';

export type { BinaryLabel };

export interface ConfusionCounts {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export interface ClassificationMetrics extends ConfusionCounts {
  accuracy: number;
  /** Recall of FAST: TP / (TP + FN). NaN when there is no FAST row. */
  sensitivity: number;
  /** Recall of POOR: TN / (TN + FP). NaN when there is no POOR row. */
  specificity: number;
  /** (sensitivity + specificity) / 2. */
  balancedAccuracy: number;
  /** Precision of FAST: TP / (TP + FP); NaN when nothing is predicted FAST. */
  precision: number;
}

export function confusionCounts(predicted: readonly BinaryLabel[], actual: readonly BinaryLabel[]): ConfusionCounts {
  checkLengths(predicted.length, actual.length);
  const counts: ConfusionCounts = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (let i = 0; i < actual.length; i++) {
    if (predicted[i] === 1) {
      if (actual[i] === 1) counts.truePositives++;
      else counts.falsePositives++;
    } else if (actual[i] === 1) counts.falseNegatives++;
    else counts.trueNegatives++;
  }
  return counts;
}

export function classificationMetrics(predicted: readonly BinaryLabel[], actual: readonly BinaryLabel[]): ClassificationMetrics {
  const c = confusionCounts(predicted, actual);
  const total = c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives;
  const sensitivity = c.truePositives / (c.truePositives + c.falseNegatives);
  const specificity = c.trueNegatives / (c.trueNegatives + c.falsePositives);
  return {
    ...c,
    accuracy: (c.truePositives + c.trueNegatives) / total,
    sensitivity,
    specificity,
    balancedAccuracy: (sensitivity + specificity) / 2,
    precision: c.truePositives / (c.truePositives + c.falsePositives),
  };
}

/**
 * ROC-AUC via the Mann–Whitney U statistic: the probability that a random FAST row scores
 * higher than a random POOR row, ties counting ½ (average ranks). NaN when a class is absent.
 */
export function rocAuc(scores: readonly number[], actual: readonly BinaryLabel[]): number {
  checkLengths(scores.length, actual.length);
  const nPos = actual.filter((l) => l === 1).length;
  const nNeg = actual.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  const ranks = averageRanks(scores);
  let positiveRankSum = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] === 1) positiveRankSum += ranks[i]!;
  const u = positiveRankSum - (nPos * (nPos + 1)) / 2;
  return u / (nPos * nNeg);
}

/**
 * PR-AUC as average precision (scikit-learn's definition): AP = Σ_t (R_t − R_{t−1}) · P_t over
 * the distinct score thresholds t taken from high to low; tied scores form one threshold.
 * NaN when there is no FAST row.
 */
export function averagePrecision(scores: readonly number[], actual: readonly BinaryLabel[]): number {
  checkLengths(scores.length, actual.length);
  const nPos = actual.filter((l) => l === 1).length;
  if (nPos === 0) return Number.NaN;
  const order = [...scores.keys()].sort((a, b) => ascending(scores[b]!, scores[a]!));
  let truePositives = 0;
  let predictedPositive = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < order.length) {
    const value = scores[order[i]!]!;
    while (i < order.length && scores[order[i]!]! === value) {
      if (actual[order[i]!] === 1) truePositives++;
      predictedPositive++;
      i++;
    }
    const recall = truePositives / nPos;
    ap += (recall - previousRecall) * (truePositives / predictedPositive);
    previousRecall = recall;
  }
  return ap;
}

export interface ScoredMetrics extends ClassificationMetrics {
  threshold: number;
  rocAuc: number;
  prAuc: number;
  n: number;
}

/** Threshold the scores (FAST when score > threshold) and compute every metric at once. */
export function metricsAtThreshold(scores: readonly number[], actual: readonly BinaryLabel[], threshold: number): ScoredMetrics {
  const predicted = scores.map((s): BinaryLabel => (s > threshold ? 1 : 0));
  return {
    ...classificationMetrics(predicted, actual),
    threshold,
    rocAuc: rocAuc(scores, actual),
    prAuc: averagePrecision(scores, actual),
    n: scores.length,
  };
}

/** 1-based ranks with ties given the mean of the ranks they span. */
function averageRanks(values: readonly number[]): number[] {
  const order = [...values.keys()].sort((a, b) => ascending(values[a]!, values[b]!));
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]!] = rank;
    i = j + 1;
  }
  return ranks;
}

function checkLengths(a: number, b: number): void {
  if (a !== b) throw new BadInputError(`length mismatch: ${a} predictions/scores vs ${b} labels`);
}

/** Comparator that also orders ±Infinity correctly (Infinity − Infinity would be NaN). */
function ascending(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
