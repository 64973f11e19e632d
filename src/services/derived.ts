/**
 * Facts a material row keeps that are computed from its structure or formula rather than given:
 * the space group (moyo) — and, from version 2, the chemical plausibility (src/structure/oxidation.ts).
 * New rows get them when they are built (material-rows.ts); rows written by an older version are
 * brought up to date by `refreshDerivedFacts`, which `ionsieve migrate`, `start` and `seed` run.
 */
import { sql } from 'kysely';
import { cellAmounts, parseComposition, spaceGroupOf, type Amounts, type Structure } from '../structure/index.js';
import { assessPlausibility } from '../structure/oxidation.js';
import type { Db } from '../store/database.js';

/** Bump when a derived column is added or its computation changes. 1: space group; 2: plausibility; 3: large partial-occupancy formulas assessed. */
export const DERIVED_VERSION = 3;

export interface DerivedColumns {
  space_group_number: number | null;
  space_group_symbol: string | null;
  charge_balanced: boolean | null;
  oxidation_states: string | null;
  has_anion: boolean | null;
  has_reducible_tm: boolean | null;
  derived_version: number;
}

/** The derived columns of a row with this structure, or (a composition) these amounts. */
export function derivedColumns(structure: Structure | null, amounts?: Amounts): DerivedColumns {
  const spaceGroup = structure ? spaceGroupOf(structure) : null;
  const plausibility = assessPlausibility(structure ? cellAmounts(structure) : (amounts ?? {}));
  return {
    space_group_number: spaceGroup?.number ?? null,
    space_group_symbol: spaceGroup?.symbol ?? null,
    charge_balanced: plausibility.chargeBalanced,
    oxidation_states: plausibility.oxidationStates ? JSON.stringify(plausibility.oxidationStates) : null,
    has_anion: plausibility.hasAnion,
    has_reducible_tm: plausibility.hasReducibleTransitionMetal,
    derived_version: DERIVED_VERSION,
  };
}

/**
 * Recomputes the derived columns of every row below DERIVED_VERSION, `batchSize` rows per
 * transaction (the change feed sees each batch as a change of its materials). Returns the number
 * of rows updated.
 */
export async function refreshDerivedFacts(db: Db, opts: { batchSize?: number } = {}): Promise<number> {
  const batchSize = Math.max(1, opts.batchSize ?? 200);
  let updated = 0;
  let afterId = '0';
  for (;;) {
    const rows = await db
      .selectFrom('material')
      .select(['id', 'structure', 'formula'])
      .where('derived_version', '<', DERIVED_VERSION)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) return updated;
    // A composition row's formula is its amounts as written ("Li6.4La3Zr1.4Ta0.6O12").
    const values = rows.map((row) => ({
      id: String(row.id),
      ...derivedColumns(row.structure, row.structure ? undefined : parseComposition(row.formula).amounts),
    }));
    await sql`
      update material m set
        space_group_number = v.space_group_number, space_group_symbol = v.space_group_symbol,
        charge_balanced = v.charge_balanced, oxidation_states = v.oxidation_states::jsonb, has_anion = v.has_anion,
        has_reducible_tm = v.has_reducible_tm, derived_version = v.derived_version
      from jsonb_to_recordset(${JSON.stringify(values)}::jsonb)
        as v(id bigint, space_group_number integer, space_group_symbol text, charge_balanced boolean, oxidation_states text,
             has_anion boolean, has_reducible_tm boolean, derived_version integer)
      where m.id = v.id`.execute(db);
    updated += rows.length;
    afterId = String(rows[rows.length - 1]!.id);
  }
}
