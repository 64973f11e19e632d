/**
 * The words every layer shares, defined once: the label classes of a material, the distance of an
 * embedding space, and the 0/1 form of a label that the classifiers train on. Each module that
 * names one re-exports it from here.
 */

/** A material's label: FAST = room-temperature Li-ion conductivity ≥ 1e-4 S/cm, POOR = below. */
export type LabelClass = 'FAST' | 'POOR';
export const LABEL_CLASSES: readonly LabelClass[] = ['FAST', 'POOR'];

/** The distance of an embedding space (pgvector `<->` and `<=>`). */
export type DistanceMetric = 'EUCLIDEAN' | 'COSINE';

/** A label as classifiers and metrics take it: 1 = FAST, 0 = POOR. */
export type BinaryLabel = 0 | 1;
