/**
 * Turning a score into a class.
 *
 * The paper's rule is "R > 1 → FAST". With a faithful re-implementation that rule finds FAST
 * with a sensitivity of only ~0.35 (the fast set is more spread out in embedding space, so its
 * mean distance is large even for true conductors). A threshold calibrated on the training
 * folds fixes the operating point without touching the test fold.
 */
import { BadInputError } from '../errors.js';
import type { LabelClass } from './score.js';

/** The paper's threshold: R > 1 reads FAST. */
export const DEFAULT_THRESHOLD = 1;

/** FAST when the score is strictly above the threshold. */
export function predictClass(score: number, threshold: number = DEFAULT_THRESHOLD): LabelClass {
  return score > threshold ? 'FAST' : 'POOR';
}

export interface CalibratedThreshold {
  threshold: number;
  /** Balanced accuracy on the calibration scores at `threshold`. */
  balancedAccuracy: number;
}

/**
 * The threshold that maximises balanced accuracy (mean of sensitivity and specificity) on the
 * given scores (labels: 1 = FAST, 0 = POOR). Meant for leave-self-out scores of the training
 * folds only.
 *
 * Candidate cuts lie between consecutive distinct scores (plus below the lowest and above the
 * highest). The threshold is the midpoint of the gap at the chosen cut, so it does not sit on a
 * training score. When several cuts reach the same best balanced accuracy, the middle one of
 * them (lower median) is taken, which is itself optimal and stays away from both extremes.
 */
export function calibrateThreshold(scores: readonly number[], labels: readonly (0 | 1)[]): CalibratedThreshold {
  if (scores.length !== labels.length) throw new BadInputError('scores and labels differ in length');
  const nPos = labels.filter((l) => l === 1).length;
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new BadInputError(`calibration needs both classes (got ${nPos} FAST, ${nNeg} POOR)`);
  }
  if (scores.some((s) => Number.isNaN(s))) throw new BadInputError('calibration scores contain NaN');

  const order = [...scores.keys()].sort((a, b) => ascending(scores[a]!, scores[b]!));
  // Cut c (0..number of distinct values) predicts FAST for the distinct values at index ≥ c.
  // Walk from "everything FAST" upward, moving one group of tied scores to POOR at a time.
  let truePositives = nPos;
  let trueNegatives = 0;
  const cuts: { balancedAccuracy: number; below: number; above: number }[] = [];
  let below = Number.NEGATIVE_INFINITY;
  let i = 0;
  while (true) {
    const above = i < order.length ? scores[order[i]!]! : Number.POSITIVE_INFINITY;
    cuts.push({ balancedAccuracy: (truePositives / nPos + trueNegatives / nNeg) / 2, below, above });
    if (i >= order.length) break;
    const value = scores[order[i]!]!;
    while (i < order.length && scores[order[i]!]! === value) {
      if (labels[order[i]!] === 1) truePositives--;
      else trueNegatives++;
      i++;
    }
    below = value;
  }

  // Compare with a small tolerance so that float noise in the BA does not break a real tie.
  const best = Math.max(...cuts.map((c) => c.balancedAccuracy));
  const tied = cuts.filter((c) => c.balancedAccuracy >= best - 1e-12);
  const chosen = tied[Math.floor((tied.length - 1) / 2)]!;
  return { threshold: gapMidpoint(chosen.below, chosen.above), balancedAccuracy: chosen.balancedAccuracy };
}

/** A threshold strictly between `below` and `above` (either may be infinite). */
function gapMidpoint(below: number, above: number): number {
  if (below === Number.POSITIVE_INFINITY) return below; // only +Infinity scores above: predict none FAST
  if (Number.isFinite(below) && Number.isFinite(above)) return (below + above) / 2;
  if (Number.isFinite(below)) return below + Math.max(1, Math.abs(below)); // above the highest score
  if (Number.isFinite(above)) return above - Math.max(1, Math.abs(above)); // below the lowest score
  return DEFAULT_THRESHOLD; // every score is infinite: nothing to separate
}

/** Comparator that also orders ±Infinity correctly (Infinity − Infinity would be NaN). */
function ascending(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
