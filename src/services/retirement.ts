/**
 * Taking a material out of use. A curator retires it: it leaves every ranking (`screen`), keeps its
 * row, labels and embeddings, and records who, when and why; restoring undoes it. An admin may
 * delete a material that has never been labelled (no label rows at all, retracted ones included).
 */
import { sql } from 'kysely';
import { BadInputError, ConflictError, NotFoundError } from '../errors.js';
import { inTransaction, type Db } from '../store/database.js';
import { findLabelRowsByMaterialIds } from '../store/label.repository.js';
import { deleteMaterialRow, findMaterialRowsByIds, lockMaterialRow, setMaterialRetirement } from '../store/material.repository.js';
import { MAX_TEXT_FIELD_CHARS } from './material-rows.js';
import { getMaterial, type MaterialRecord } from './materials.js';
import { ID_PATTERN } from '../ids.js';
import { rescoreModel } from './screening.js';

function checkId(id: string): string {
  const text = String(id).trim();
  if (!ID_PATTERN.test(text)) throw new NotFoundError('material', String(id));
  return text;
}

/** Retires a material (hidden from rankings) with a reason; ConflictError when it is retired already. */
export async function retireMaterial(db: Db, materialId: string, reason: string, actor: string | null): Promise<MaterialRecord> {
  const id = checkId(materialId);
  const why = typeof reason === 'string' ? reason.trim() : '';
  if (why === '') throw new BadInputError('reason: say why the material is retired', { field: 'reason' });
  if (why.length > MAX_TEXT_FIELD_CHARS || why.includes('\u0000')) {
    throw new BadInputError(`reason must be text of at most ${MAX_TEXT_FIELD_CHARS} characters`, { field: 'reason' });
  }
  await inTransaction(db, async (tx) => {
    if (!(await lockMaterialRow(tx, id))) throw new NotFoundError('material', id);
    const [row] = await findMaterialRowsByIds(tx, [id]);
    if (row!.retired_at !== null) throw new ConflictError(`material ${id} is already retired`, { materialId: id });
    await setMaterialRetirement(tx, id, { retired_at: new Date(), retired_by: actor, retired_reason: why });
  });
  return getMaterial(db, id);
}

/** Restores a retired material to the rankings; ConflictError when it is not retired. */
export async function restoreMaterial(db: Db, materialId: string): Promise<MaterialRecord> {
  const id = checkId(materialId);
  await inTransaction(db, async (tx) => {
    if (!(await lockMaterialRow(tx, id))) throw new NotFoundError('material', id);
    const [row] = await findMaterialRowsByIds(tx, [id]);
    if (row!.retired_at === null) throw new ConflictError(`material ${id} is not retired`, { materialId: id });
    await setMaterialRetirement(tx, id, { retired_at: null, retired_by: null, retired_reason: null });
  });
  return getMaterial(db, id);
}

/**
 * Deletes a material that has no labels, with its embeddings. The models that ranked it are
 * re-scored in the same transaction (a full re-score of each: rankings stay exact, and an admin's
 * delete is rare). Returns the id.
 */
export async function deleteMaterial(db: Db, materialId: string): Promise<string> {
  const id = checkId(materialId);
  await inTransaction(db, async (tx) => {
    if (!(await lockMaterialRow(tx, id))) throw new NotFoundError('material', id);
    const labels = await findLabelRowsByMaterialIds(tx, [id]);
    if (labels.length > 0) {
      throw new BadInputError(`material ${id} has ${labels.length} label row(s) and cannot be deleted; retire it instead`, {
        field: 'id',
        labels: labels.length,
      });
    }
    const { rows } = await sql<{ model_id: string }>`
      select distinct e.model_id::text as model_id from embedding e join screening_state s on s.model_id = e.model_id
      where e.material_id = ${id}::bigint order by 1`.execute(tx);
    await deleteMaterialRow(tx, id);
    for (const { model_id } of rows) await rescoreModel(tx, model_id);
  });
  return id;
}
