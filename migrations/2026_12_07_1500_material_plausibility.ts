import { type Kysely } from 'kysely';

/**
 * Chemical plausibility of a material (src/structure/oxidation.ts), derived from its composition:
 * whether an assignment of ICSD oxidation states balances charge (null: not assessed), the average
 * state per element of the best one (JSON {element: state}; null when none), whether it holds an
 * anion-forming element and a reducible transition metal. Filled for new rows when they are stored
 * and for older rows by `refreshDerivedFacts` (derived_version ≥ 2).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('material')
    .addColumn('charge_balanced', 'boolean')
    .addColumn('oxidation_states', 'jsonb')
    .addColumn('has_anion', 'boolean')
    .addColumn('has_reducible_tm', 'boolean')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('material')
    .dropColumn('has_reducible_tm')
    .dropColumn('has_anion')
    .dropColumn('oxidation_states')
    .dropColumn('charge_balanced')
    .execute();
}
