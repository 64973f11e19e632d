/** TypeScript shapes of the documents in queries.ts (what the dashboard reads of each answer). */

export type LabelClass = 'FAST' | 'POOR';
export type LabelFilter = LabelClass | 'UNLABELLED';

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<TEdge> {
  totalCount: number;
  pageInfo: PageInfo;
  edges: TEdge[];
}

export interface Label {
  id: string;
  class: LabelClass;
  conductivity: number | null;
  temperature: number | null;
  source: string | null;
  reason: string | null;
  createdBy: string | null;
  createdAt: string;
  retracted: boolean;
  /** Who retracted the label, when and why; null while it stands. */
  retraction: LabelRetraction | null;
}

export interface LabelRetraction {
  reason: string | null;
  createdBy: string | null;
  createdAt: string;
}

export interface MaterialSummary {
  id: string;
  name: string | null;
  source: string | null;
  sourceId: string | null;
  sourceUrl: string | null;
  formula: string;
  reducedFormula: string;
  elements: string[];
  nsites: number | null;
  kind: 'STRUCTURE' | 'COMPOSITION';
  chargeBalanced: boolean | null;
  label: { id: string; class: LabelClass } | null;
}

export interface Neighbor {
  rank: number;
  distance: number;
  material: { id: string; formula: string; reducedFormula: string; label: { id: string; class: LabelClass; conductivity: number | null } | null };
}

export interface ScreenEdge {
  cursor: string;
  rank: number;
  score: number;
  predictedClass: LabelClass;
  meanDistanceToFast: number;
  meanDistanceToPoor: number;
  nearestFast: Neighbor[];
  node: MaterialSummary;
}

export interface ScreeningResult {
  score: number;
  predictedClass: LabelClass;
  meanDistanceToFast: number;
  meanDistanceToPoor: number;
  outOfDomain: boolean;
  nearestReferenceDistance: number | null;
  domainRadius: number | null;
  nearestFast: Neighbor[];
}

export interface Site {
  label: string | null;
  frac: [number, number, number];
  species: { element: string; occupancy: number }[];
}

export interface Lattice {
  vectors: [number, number, number][];
  a: number;
  b: number;
  c: number;
  alpha: number;
  beta: number;
  gamma: number;
}

export interface MaterialDetail {
  id: string;
  name: string | null;
  source: string | null;
  sourceId: string | null;
  sourceUrl: string | null;
  aliases: { name: string | null; source: string | null; sourceId: string | null; createdBy: string | null; createdAt: string }[];
  spaceGroupNumber: number | null;
  spaceGroupSymbol: string | null;
  chargeBalanced: boolean | null;
  hasAnion: boolean | null;
  hasReducibleTransitionMetal: boolean | null;
  oxidationStates: { element: string; state: number; fraction: string }[] | null;
  properties: { name: string; value: number; unit: string | null; source: string | null }[];
  retiredAt: string | null;
  retiredBy: string | null;
  retiredReason: string | null;
  family: string | null;
  kind: 'STRUCTURE' | 'COMPOSITION';
  formula: string;
  reducedFormula: string;
  elements: string[];
  nelements: number;
  nsites: number | null;
  natoms: number;
  isOrdered: boolean | null;
  volume: number | null;
  density: number | null;
  structureHash: string | null;
  createdAt: string;
  lattice: Lattice | null;
  sites: Site[] | null;
  label: Label | null;
  labels: Label[];
}

export type ModelStatus = 'QUEUED' | 'TRAINING' | 'READY' | 'FAILED' | 'CANCELLED';

export interface ModelMetrics {
  protocol: string | null;
  /** False (or absent, with protocol TRAIN) for the fit to the training data. */
  heldOut?: boolean | null;
  /** The protocol in words ("held out: grouped 5-fold × 1 seed, n = 254"). */
  label?: string | null;
  folds?: number | null;
  seeds?: number[] | null;
  rocAucSd?: number | null;
  source?: string | null;
  note?: string | null;
  balancedAccuracy?: number | null;
  n?: number | null;
  accuracy: number | null;
  sensitivity: number | null;
  specificity: number | null;
  rocAuc: number | null;
  prAuc: number | null;
  threshold: number | null;
}

export interface OperatingPoint {
  threshold: number;
  precision: number | null;
  recall: number;
  falsePositiveRate: number;
  predictedFastRate: number;
}

export interface ModelDecision {
  threshold: number;
  protocol: string;
  heldOut: boolean;
  label: string;
  precision: number | null;
  recall: number;
  falsePositiveRate: number;
  balancedAccuracy: number;
  n: number;
  operatingPoints?: OperatingPoint[];
}

export interface ModelProgress {
  phase?: string | null;
  fold?: number | null;
  folds?: number | null;
  epoch: number | null;
  maxEpochs: number | null;
  trainLoss: number | null;
  validationLoss: number | null;
  etaSeconds: number | null;
}

export interface CurvePoint {
  epoch: number;
  trainLoss: number | null;
  validationLoss: number | null;
}

export interface ModelSummary {
  id: string;
  name: string | null;
  status: ModelStatus;
  isActive: boolean;
  backend: string | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  labelCounts: { fast: number; poor: number } | null;
  progress: ModelProgress | null;
  /** One object or a list (one entry per evaluation protocol): the contract does not say which. */
  metrics: ModelMetrics | ModelMetrics[] | null;
  heldOutMetrics?: ModelMetrics | null;
  noHeldOutReason?: string | null;
  threshold?: number | null;
  decision?: ModelDecision | null;
}

export interface ModelDetail extends ModelSummary {
  hyperparameters: unknown;
  trainingCurve: CurvePoint[] | null;
}
