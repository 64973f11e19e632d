/**
 * Per-request DataLoaders: one set per GraphQL operation (see `createContext`), so the cache never
 * outlives a request and never mixes data across requests.
 *
 * Every field that follows a reference (Material.label, Material.labels, Label.material, …) goes through
 * these, so resolving a page of N materials costs one SQL statement per loader, not N.
 */
import DataLoader from 'dataloader';
import type { Db } from '../store/database.js';
import {
  currentLabelsByMaterialIds,
  labelsByIds,
  labelsByMaterialIds,
  materialsByIds,
  type LabelRecord,
  type MaterialRecord,
} from '../services/materials.js';

export interface Loaders {
  /** Material by id; null when the id does not exist. */
  materialById: DataLoader<string, MaterialRecord | null>;
  /** Current (latest, not retracted) label of a material; null when unlabelled. */
  currentLabelByMaterialId: DataLoader<string, LabelRecord | null>;
  /** Label history of a material, newest first. */
  labelHistoryByMaterialId: DataLoader<string, LabelRecord[]>;
  /** Label by id; null when the id does not exist. */
  labelById: DataLoader<string, LabelRecord | null>;
  /** Drop everything cached about one material (after a mutation changed its labels). */
  forgetMaterial(materialId: string): void;
  /** Seed the caches with rows a list query already returned, so nested fields do not load them again. */
  primeMaterials(materials: readonly MaterialRecord[]): void;
  primeLabels(labels: readonly LabelRecord[]): void;
}

export function createLoaders(db: Db): Loaders {
  const materialById = new DataLoader<string, MaterialRecord | null>((ids) => materialsByIds(db, ids), {
    name: 'materialById',
  });
  const currentLabelByMaterialId = new DataLoader<string, LabelRecord | null>(
    (ids) => currentLabelsByMaterialIds(db, ids),
    { name: 'currentLabelByMaterialId' },
  );
  const labelHistoryByMaterialId = new DataLoader<string, LabelRecord[]>((ids) => labelsByMaterialIds(db, ids), {
    name: 'labelHistoryByMaterialId',
  });
  const labelById = new DataLoader<string, LabelRecord | null>((ids) => labelsByIds(db, ids), {
    name: 'labelById',
  });

  return {
    materialById,
    currentLabelByMaterialId,
    labelHistoryByMaterialId,
    labelById,
    forgetMaterial(materialId) {
      materialById.clear(materialId);
      currentLabelByMaterialId.clear(materialId);
      labelHistoryByMaterialId.clear(materialId);
    },
    primeMaterials(materials) {
      for (const material of materials) materialById.prime(material.id, material);
    },
    primeLabels(labels) {
      for (const label of labels) labelById.clear(label.id).prime(label.id, label);
    },
  };
}
