/**
 * Runs the migrations in migrations/. The provider imports them statically, so migrating works
 * under tsx, from a bundle, and from any working directory.
 */
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationProvider, type MigrationResult } from 'kysely/migration';
import * as createVectorExtension from '../../migrations/2026_11_25_1400_create_vector_extension.js';
import * as createMaterial from '../../migrations/2026_11_25_1401_create_material.js';
import * as createLabel from '../../migrations/2026_11_25_1402_create_label.js';
import * as createModel from '../../migrations/2026_11_25_1403_create_model.js';
import * as createEmbedding from '../../migrations/2026_11_25_1404_create_embedding.js';
import * as createJob from '../../migrations/2026_11_25_1405_create_job.js';
import * as createScreening from '../../migrations/2026_11_26_1200_create_screening.js';
import * as createApiToken from '../../migrations/2026_12_01_1200_create_api_token.js';
import * as createChangeLog from '../../migrations/2026_12_02_1200_create_change_log.js';
import * as changeLogFastReferences from '../../migrations/2026_12_02_1600_change_log_fast_references.js';
import * as materialProvenance from '../../migrations/2026_12_07_1300_material_provenance.js';
import * as materialProperties from '../../migrations/2026_12_07_1400_material_properties.js';
import * as materialPlausibility from '../../migrations/2026_12_07_1500_material_plausibility.js';
import * as materialRetirement from '../../migrations/2026_12_07_1600_material_retirement.js';
import * as createEmbeddingStage from '../../migrations/2026_12_07_1700_create_embedding_stage.js';
import * as jobKey from '../../migrations/2026_12_07_1710_job_key.js';
import * as jobProgress from '../../migrations/2026_12_07_1800_job_progress.js';
import * as distanceScale from '../../migrations/2026_12_07_1900_distance_scale.js';
import type { Db } from './database.js';

/** Name → migration; names sort in the order they must run. Add new migrations here. */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '2026_11_25_1400_create_vector_extension': createVectorExtension,
  '2026_11_25_1401_create_material': createMaterial,
  '2026_11_25_1402_create_label': createLabel,
  '2026_11_25_1403_create_model': createModel,
  '2026_11_25_1404_create_embedding': createEmbedding,
  '2026_11_25_1405_create_job': createJob,
  '2026_11_26_1200_create_screening': createScreening,
  '2026_12_01_1200_create_api_token': createApiToken,
  '2026_12_02_1200_create_change_log': createChangeLog,
  '2026_12_02_1600_change_log_fast_references': changeLogFastReferences,
  '2026_12_07_1300_material_provenance': materialProvenance,
  '2026_12_07_1400_material_properties': materialProperties,
  '2026_12_07_1500_material_plausibility': materialPlausibility,
  '2026_12_07_1600_material_retirement': materialRetirement,
  '2026_12_07_1700_create_embedding_stage': createEmbeddingStage,
  '2026_12_07_1710_job_key': jobKey,
  '2026_12_07_1800_job_progress': jobProgress,
  '2026_12_07_1900_distance_scale': distanceScale,
});

const staticProvider: MigrationProvider = { getMigrations: async () => ({ ...migrations }) };

function createMigrator(db: Db): Migrator {
  return new Migrator({ db, provider: staticProvider });
}

/** Applies every pending migration (one transaction); throws if one fails. Returns those applied. */
export async function migrateToLatest(db: Db): Promise<MigrationResult[]> {
  const { error, results = [] } = await createMigrator(db).migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String((error as Error)?.message ?? error)}`, {
      cause: error,
    });
  }
  return results;
}

/** Reverts every migration (tests; `ionsieve migrate --down`). */
export async function migrateDownAll(db: Db): Promise<MigrationResult[]> {
  const { error, results = [] } = await createMigrator(db).migrateTo(NO_MIGRATIONS);
  if (error) throw new Error(`migration down failed: ${String((error as Error)?.message ?? error)}`, { cause: error });
  return results;
}
