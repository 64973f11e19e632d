/**
 * Embedding many materials (services/embeddings.ts) on a real database: a job of more than one
 * page runs on two threads (ParallelEmbedder) and stores what one thread computes; vectors the
 * caller already has (the training crystals') are reused, not recomputed.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { createModel, embedStructureBatch, initBackend, resolveHyperparameters, saveArtifact } from '../../src/model/index.js';
import { EMBED_BATCH_SIZE, embedAllStructureMaterials, embedMissingMaterials } from '../../src/services/embeddings.js';
import { findEmbeddingRows, listEmbeddableMaterials } from '../../src/store/embedding.repository.js';
import { parseVectorLiteral } from '../../src/store/vector.js';
import type { Structure } from '../../src/structure/structure.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { insertModel } from '../screening/fixtures.js';
import { addStructures } from '../trainer/support.js';

// The trainer tests' tiny model (k = 4 fits their 3-atom cells).
const h = resolveHyperparameters({ k: 4, layers: 1, featureLength: 8, denseLength: 8, embeddingDim: 4, seed: 5 });

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let c = 0; c < want.length; c++) assert.ok(Math.abs(got[c]! - want[c]!) <= 1e-5 * Math.max(1, Math.abs(want[c]!)), `${what} component ${c}: ${got[c]} vs ${want[c]}`);
}

describeDatabases('embedding many materials', (database) => {
  test('a job of more than one page embeds on two threads what one thread computes; known vectors are reused', async () => {
    const { db } = database();
    await resetDatabase(db);
    const backend = await initBackend('auto');
    const count = EMBED_BATCH_SIZE + 9; // a full page, then more
    const materials = await addStructures(db, count);
    const model = createModel(h);
    const modelId = await insertModel(db, { dim: h.embeddingDim, weights: saveArtifact(model) });
    try {
      const result = await embedMissingMaterials(db, modelId);
      assert.equal(result.embedded, count);
      assert.deepEqual(result.skipped, []);
      // Page 1 on this thread while the worker starts; page 2 is the two-thread trial (ThreadChoice).
      const twoThreads = backend.name === 'wasm' && availableParallelism() >= 2;
      assert.deepEqual(result.pages, twoThreads ? { oneThread: 1, twoThreads: 1 } : { oneThread: 2, twoThreads: 0 });

      // The stored vectors equal this thread's embeddings of the same structures.
      const rows = await listEmbeddableMaterials(db, { afterId: null, limit: count });
      const reference = embedStructureBatch(model, rows.map((r) => r.structure as Structure));
      const stored = new Map((await findEmbeddingRows(db, modelId, materials.map((m) => m.id))).map((r) => [String(r.material_id), parseVectorLiteral(r.vec)]));
      assert.equal(stored.size, count);
      rows.forEach((r, i) => assertClose(stored.get(r.id)!, reference.vectors[i]!, `material ${r.id}`));
      assert.equal((await embedMissingMaterials(db, modelId)).embedded, 0, 'nothing left to embed');

      // Known vectors (the trainer's training-crystal embeddings) are taken as they are.
      const marker = Float32Array.from({ length: h.embeddingDim }, (_, c) => 100 + c);
      const known = new Map(rows.slice(0, 3).map((r) => [r.id, marker]));
      const all = await embedAllStructureMaterials(db, model, { known });
      assert.equal(all.length, count);
      const byId = new Map(all.map((e) => [e.materialId, e.vector]));
      for (const r of rows.slice(0, 3)) assert.equal(byId.get(r.id), marker);
      rows.slice(3).forEach((r, i) => assertClose(byId.get(r.id)!, reference.vectors[i + 3]!, `material ${r.id} (computed)`));
    } finally {
      model.dispose();
    }
  });
});
