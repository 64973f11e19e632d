/**
 * Per-request DataLoaders: one set per GraphQL operation (see `createContext`), so the cache never
 * outlives a request and never mixes data across requests.
 *
 * Every field that follows a reference (Material.label, Material.labels, Label.material, …) goes through
 * these, so resolving a page of N materials costs one SQL statement per loader, not N.
 *
 * Material rows and current labels are also shared reads (src/store/shared-reads.ts): a request the
 * response cache executes takes them from earlier requests while their rows are unchanged, and
 * loads only the rest.
 */
import DataLoader from 'dataloader';
import type { Structure } from '../structure/index.js';
import type { Db } from '../store/database.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import {
  currentLabelsByMaterialIds,
  labelsByIds,
  labelsByMaterialIds,
  materialsByIds,
  structuresByMaterialIds,
  type LabelRecord,
  type MaterialRecord,
} from '../services/materials.js';

export interface Loaders {
  /** Material by id, without its structure (`structureOf` loads it); null when the id does not exist. */
  materialById: DataLoader<string, MaterialRecord | null>;
  /** Structure of a material; null for a composition. */
  structureByMaterialId: DataLoader<string, Structure | null>;
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
  /**
   * Reads this request may share with others (src/store/shared-reads.ts): the response cache sets
   * them once the request synced to the change feed; DIRECT_READS (every read to the database)
   * otherwise — mutations, subscriptions, uncached operations. Screening services take them too.
   */
  sharedReads: SharedReads;
}

/** A material's structure: from the record when it was read with it, else through the loader. */
export function structureOf(loaders: Loaders, material: MaterialRecord): Structure | null | Promise<Structure | null> {
  if (material.structure !== undefined) return material.structure;
  // A composition has none: no query.
  if (material.kind !== 'STRUCTURE') return null;
  return loaders.structureByMaterialId.load(material.id);
}

/**
 * A DataLoader batch function that goes through the shared reads: key `<kind>:<id>`, tagged with the
 * row it comes from (`<table>:<id>`, the id as the change feed writes it).
 */
function sharedBatch<V>(
  reads: () => SharedReads,
  kind: string,
  table: string,
  batch: (ids: readonly string[]) => Promise<V[]>,
): (ids: readonly string[]) => Promise<V[]> {
  return (ids) =>
    reads().readMany(
      ids.map((id) => `${kind}:${id}`),
      (missing) => batch(missing.map((i) => ids[i]!)),
      (_value, i) => [`${table}:${ids[i]!.trim()}`],
    );
}

export function createLoaders(db: Db): Loaders {
  // Looked up per batch: the response cache sets it after the loaders exist.
  const reads = () => loaders.sharedReads;
  // Most queries never touch the structure JSON (most of a row's bytes): it is read only for the
  // fields computed from it (lattice, sites, cif, json).
  const materialById = new DataLoader<string, MaterialRecord | null>(
    sharedBatch(reads, 'material', 'material', (ids) => materialsByIds(db, ids, { structure: false })),
    { name: 'materialById' },
  );
  const structureByMaterialId = new DataLoader<string, Structure | null>((ids) => structuresByMaterialIds(db, ids), {
    name: 'structureByMaterialId',
  });
  const currentLabelByMaterialId = new DataLoader<string, LabelRecord | null>(
    sharedBatch(reads, 'currentLabel', 'label', (ids) => currentLabelsByMaterialIds(db, ids)),
    { name: 'currentLabelByMaterialId' },
  );
  const labelHistoryByMaterialId = new DataLoader<string, LabelRecord[]>((ids) => labelsByMaterialIds(db, ids), {
    name: 'labelHistoryByMaterialId',
  });
  const labelById = new DataLoader<string, LabelRecord | null>((ids) => labelsByIds(db, ids), {
    name: 'labelById',
  });

  const loaders: Loaders = {
    sharedReads: DIRECT_READS,
    materialById,
    structureByMaterialId,
    currentLabelByMaterialId,
    labelHistoryByMaterialId,
    labelById,
    forgetMaterial(materialId) {
      materialById.clear(materialId);
      structureByMaterialId.clear(materialId);
      currentLabelByMaterialId.clear(materialId);
      labelHistoryByMaterialId.clear(materialId);
    },
    primeMaterials(materials) {
      for (const material of materials) {
        materialById.prime(material.id, material);
        if (material.structure !== undefined) structureByMaterialId.prime(material.id, material.structure);
      }
    },
    primeLabels(labels) {
      for (const label of labels) labelById.clear(label.id).prime(label.id, label);
    },
  };
  return loaders;
}
