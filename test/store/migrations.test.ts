import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { migrateDownAll, migrateToLatest, migrations } from '../../src/store/migrate.js';
import { describeDatabases } from '../support/databases.js';

const TABLES = ['api_token', 'embedding', 'job', 'label', 'material', 'model'];

describeDatabases(
  'migrations',
  (database) => {
    async function tableNames(): Promise<string[]> {
      const { rows } = await sql<{ table_name: string }>`
        select table_name from information_schema.tables
        where table_schema = 'public' and table_name = any(${TABLES})
        order by table_name`.execute(database().db);
      return rows.map((r) => r.table_name);
    }

    test('migrate to latest creates every table, and a second run applies nothing', async () => {
      const { db } = database();
      assert.deepEqual(await tableNames(), []);
      const applied = await migrateToLatest(db);
      assert.deepEqual(
        applied.map((r) => r.migrationName),
        Object.keys(migrations),
      );
      assert.deepEqual(await tableNames(), TABLES);
      assert.deepEqual(await migrateToLatest(db), []);
      const { rows } = await sql<{ extname: string }>`select extname from pg_extension where extname = 'vector'`.execute(db);
      assert.equal(rows.length, 1);
    });

    test('migrations revert and re-apply', async () => {
      const { db } = database();
      const reverted = await migrateDownAll(db);
      assert.equal(reverted.length, Object.keys(migrations).length);
      assert.deepEqual(await tableNames(), []);
      await migrateToLatest(db);
      assert.deepEqual(await tableNames(), TABLES);
    });

    test('constraints: one active model, label class xor retraction, composition has no hash', async () => {
      const { db } = database();
      await db.insertInto('model').values({ name: 'a', hyperparameters: '{}', is_active: true }).execute();
      await assert.rejects(
        db.insertInto('model').values({ name: 'b', hyperparameters: '{}', is_active: true }).execute(),
        /model_one_active_uq|duplicate key/,
      );
      await db.insertInto('model').values({ name: 'c', hyperparameters: '{}', is_active: false }).execute();

      const material = await db
        .insertInto('material')
        .values({ kind: 'COMPOSITION', formula: 'Li2O', reduced_formula: 'Li2O', elements: ['Li', 'O'], nelements: 2, natoms: 3 })
        .returning('id')
        .executeTakeFirstOrThrow();
      await assert.rejects(
        db.insertInto('label').values({ material_id: material.id, class: null }).execute(),
        /label_class_xor_retraction/,
      );
      await assert.rejects(
        db
          .insertInto('material')
          .values({
            kind: 'COMPOSITION',
            formula: 'Li2O',
            reduced_formula: 'Li2O',
            elements: ['Li', 'O'],
            nelements: 2,
            natoms: 3,
            structure_hash: 'abc',
          })
          .execute(),
        /material_kind_payload/,
      );
      const job = await db.insertInto('job').values({ kind: 'train_model', payload: '{"modelId":"1"}' }).returningAll().executeTakeFirstOrThrow();
      assert.equal(job.status, 'QUEUED');
      assert.equal(job.max_attempts, 3);
      assert.deepEqual(job.payload, { modelId: '1' });
    });
  },
  { migrate: false },
);
