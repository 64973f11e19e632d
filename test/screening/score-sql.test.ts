/**
 * R has one definition, src/scoring/score.ts `ratioScore`; the ranking orders by its SQL form
 * (src/store/screening/score.ts `scoreSql`). Both are evaluated here on the same sums and counts —
 * ordinary values, the edge cases (a mean of 0 on either side or both) and the rounding residue
 * below 0 that removing references can leave — and must agree exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { boundedDistance, ratioScore } from '../../src/scoring/index.js';
import { scoreSql } from '../../src/store/screening/index.js';
import { referenceDistanceSql, vectorParam } from '../../src/store/screening/fragments.js';
import { describeDatabases } from '../support/databases.js';

/** [sumFast, sumPoor, nFast, nPoor] */
const CASES: readonly [number, number, number, number][] = [
  [1, 2, 1, 1],
  [3.5, 1.25, 7, 3],
  [0.1, 0.2, 3, 3],
  [1e-12, 5, 2, 9],
  [123.456, 0.001, 300, 150],
  [0, 4, 2, 2], // meanFast 0 < meanPoor: +Infinity
  [0, 0, 5, 5], // both 0: 1
  [2, 0, 1, 4], // meanPoor 0: 0
  [-1e-15, 3, 2, 2], // a residue below 0 counts as 0
  [4, -2e-16, 2, 2],
];

/** The TS side, with the store's clamp of sums at 0 (the service applies the same before ratioScore). */
function expected(sumFast: number, sumPoor: number, nFast: number, nPoor: number): number {
  return ratioScore(Math.max(0, sumFast) / nFast, Math.max(0, sumPoor) / nPoor).score;
}

test('the TS rule has the documented edge cases', () => {
  assert.equal(expected(0, 4, 2, 2), Number.POSITIVE_INFINITY);
  assert.equal(expected(0, 0, 5, 5), 1);
  assert.equal(expected(1, 2, 1, 1), 2);
});

describeDatabases('scoreSql agrees with ratioScore', (database) => {
  test('every case, bit for bit', async () => {
    const { db } = database();
    for (const [sumFast, sumPoor, nFast, nPoor] of CASES) {
      const { rows } = await sql<{ r: number | string }>`select ${scoreSql(sql`${sumFast}::float8`, sql`${sumPoor}::float8`, nFast, nPoor)} as r`.execute(db);
      const got = Number(rows[0]!.r);
      assert.equal(got, expected(sumFast, sumPoor, nFast, nPoor), `sums ${sumFast}, ${sumPoor}; counts ${nFast}, ${nPoor}`);
    }
  });

  test('no score without a reference of each class', async () => {
    const { db } = database();
    const { rows } = await sql<{ r: number | null }>`select ${scoreSql(sql`1::float8`, sql`1::float8`, 0, 3)} as r`.execute(db);
    assert.equal(rows[0]!.r, null);
  });

  test('bounded distances far beyond the scale are 1, as in TS (PostgreSQL exp() would underflow)', async () => {
    const { db } = database();
    for (const [scale, x] of [[0.5, 3], [1e-3, 10], [1e-6, 1]] as const) {
      const d = referenceDistanceSql({ distance: 'EUCLIDEAN', distanceScale: scale }, vectorParam('[0,0]', 2), vectorParam(`[${x},0]`, 2));
      const { rows } = await sql<{ r: number | string }>`select ${d} as r`.execute(db);
      assert.equal(Number(rows[0]!.r), boundedDistance(x, scale), `d = ${x}, scale ${scale}`);
    }
  });
});
