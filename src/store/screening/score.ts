/** The distance ratio R in SQL: the rule of src/scoring/score.ts `ratioScore`, the one definition (test/screening/score-sql.test.ts checks that they agree). */
import { sql, type RawBuilder } from 'kysely';

/**
 * R from sums and counts, the rule of src/scoring ratioScore in SQL (the ranking must be ordered
 * in SQL): meanPoor / meanFast; +Infinity when meanFast = 0 < meanPoor; 1 when both are 0.
 * Sums are clamped at 0 (removing references can leave a rounding residue below 0).
 */
export function scoreSql(sumFast: RawBuilder<number>, sumPoor: RawBuilder<number>, nFast: number, nPoor: number): RawBuilder<number> {
  if (!(nFast > 0 && nPoor > 0)) return sql<number>`null::float8`;
  const meanFast = sql`(greatest(${sumFast}, 0::float8) / ${sql.lit(nFast)}::float8)`;
  const meanPoor = sql`(greatest(${sumPoor}, 0::float8) / ${sql.lit(nPoor)}::float8)`;
  return sql<number>`(case when ${meanFast} > 0 then ${meanPoor} / ${meanFast}
    when ${meanPoor} > 0 then 'Infinity'::float8 else 1::float8 end)`;
}
