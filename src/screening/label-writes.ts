/**
 * The label rows of a label write: the new label (or retraction) and the material's current label.
 * Only the screening engine calls these, inside the transaction that also brings every screened
 * model's references in line (engine.ts): no other code writes labels.
 */
import type { LabelClass } from '../domain.js';
import { BadInputError, ConflictError, NotFoundError } from '../errors.js';
import {
  LABEL_CLASSES,
  labelRowToRecord,
  MAX_TEMPERATURE_K,
  normaliseId,
  type LabelMaterialInput,
  type LabelRecord,
} from '../services/materials.js';
import { optionalText } from '../services/material-rows.js';
import { inTransaction, type Db } from '../store/database.js';
import { findLabelRowsByIds, insertLabelRows, refreshCurrentLabelClass } from '../store/label.repository.js';
import { lockMaterialRow } from '../store/material.repository.js';

function optionalNumber(value: number | null | undefined, field: string, check: (v: number) => boolean, rule: string) {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
    throw new BadInputError(`${field} must be ${rule}, got ${String(value)}`);
  }
  return value;
}

/** σ at room temperature from which a conductor is FAST (S/cm): the project's definition (README). */
export const FAST_CONDUCTIVITY_S_PER_CM = 1e-4;
/** Temperatures (K) at which a measured σ decides the class: room temperature, 0–50 °C. */
const ROOM_TEMPERATURE_RANGE_K: readonly [number, number] = [273.15, 323.15];

/**
 * A class that contradicts the given room-temperature conductivity (FAST with σ = 1e-9 S/cm, POOR
 * with 1e-2) is refused unless the curator says why in `reason`. A σ measured away from room
 * temperature does not decide the class, so it is not checked.
 */
function checkClassAgainstConductivity(cls: LabelClass, conductivity: number | null, temperature: number | null, reason: string | null): void {
  if (conductivity === null || reason !== null) return;
  if (temperature !== null && (temperature < ROOM_TEMPERATURE_RANGE_K[0] || temperature > ROOM_TEMPERATURE_RANGE_K[1])) return;
  const fast = conductivity >= FAST_CONDUCTIVITY_S_PER_CM;
  if (fast === (cls === 'FAST')) return;
  throw new BadInputError(
    `class ${cls} contradicts conductivity ${conductivity} S/cm (FAST means ≥ ${FAST_CONDUCTIVITY_S_PER_CM} S/cm at room temperature); ` +
      'give a reason to label it so anyway',
    { field: 'class' },
  );
}

/**
 * Appends a label and makes it the material's current label (the `current_label_class` cache is
 * updated in the same transaction). The material row is locked so concurrent label writes on one
 * material serialise.
 */
export async function insertLabel(db: Db, input: LabelMaterialInput, actor?: string): Promise<LabelRecord> {
  if (!LABEL_CLASSES.includes(input.class)) throw new BadInputError(`class must be FAST or POOR, got ${String(input.class)}`);
  // Messages name the API's fields (conductivity, temperature), not the record's unit-suffixed ones.
  const conductivity = optionalNumber(input.conductivitySPerCm, 'conductivity', (v) => v >= 0, 'a finite number ≥ 0 (S/cm)');
  const temperature = optionalNumber(
    input.temperatureK,
    'temperature',
    (v) => v > 0 && v <= MAX_TEMPERATURE_K,
    `in (0, ${MAX_TEMPERATURE_K}] K`,
  );
  checkClassAgainstConductivity(input.class, conductivity, temperature, optionalText(input.reason, 'reason'));
  const row = {
    class: input.class,
    conductivity_s_per_cm: conductivity,
    temperature_k: temperature,
    source: optionalText(input.source, 'source'),
    reason: optionalText(input.reason, 'reason'),
    created_by: optionalText(actor, 'actor'),
  };
  const materialId = normaliseId(input.materialId);
  if (!materialId) throw new NotFoundError('material', String(input.materialId));
  return inTransaction(db, async (tx) => {
    if (!(await lockMaterialRow(tx, materialId))) throw new NotFoundError('material', materialId);
    const [inserted] = await insertLabelRows(tx, [{ ...row, material_id: materialId }]);
    await refreshCurrentLabelClass(tx, [materialId]);
    return labelRowToRecord({ ...inserted!, retracted: false });
  });
}

/**
 * Retracts a label by appending a retraction row; the material's current label falls back to its
 * newest label not retracted. Returns the retracted label (retracted = true).
 * ConflictError if it is already retracted; BadInputError for a retraction row.
 */
export async function insertRetraction(db: Db, labelId: string, actor?: string, reason?: string): Promise<LabelRecord> {
  const id = normaliseId(labelId);
  if (!id) throw new NotFoundError('label', String(labelId));
  const createdBy = optionalText(actor, 'actor');
  const why = optionalText(reason, 'reason');
  return inTransaction(db, async (tx) => {
    const [target] = await findLabelRowsByIds(tx, [id]);
    if (!target) throw new NotFoundError('label', id);
    await lockMaterialRow(tx, String(target.material_id));
    // Re-read under the lock: a concurrent retraction may have committed meanwhile.
    const [current] = await findLabelRowsByIds(tx, [id]);
    if (current!.class === null) throw new BadInputError(`label ${id} is a retraction and cannot be retracted`);
    if (current!.retracted) throw new ConflictError(`label ${id} is already retracted`, { labelId: id });
    const [retraction] = await insertLabelRows(tx, [
      { material_id: String(current!.material_id), class: null, retracts_label_id: id, reason: why, created_by: createdBy },
    ]);
    await refreshCurrentLabelClass(tx, [String(current!.material_id)]);
    return labelRowToRecord({ ...current!, retracted: true, retraction: retraction! });
  });
}

