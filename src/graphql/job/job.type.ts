/**
 * A background job (training, embedding, OPTIMADE import) as the API shows it. The root value is a
 * `JobRecord` (src/jobs/queue.ts); `optimadeImport` reads an import's progress.
 */
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from '../scalars.js';

export enum JobStatusValue {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  DONE = 'DONE',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(JobStatusValue, {
  name: 'JobStatus',
  valuesConfig: {
    QUEUED: { description: 'Waiting for a worker (also between a failed attempt and its retry, which resumes where it stopped).' },
    RUNNING: { description: 'A worker holds it.' },
    DONE: { description: 'Finished; see `result`.' },
    FAILED: { description: 'Stopped for good; see `lastError`.' },
    CANCELLED: { description: 'Cancelled.' },
  },
});

@ObjectType('SkippedEntry', { description: 'An OPTIMADE entry an import did not store, and why.' })
export class SkippedEntryType {
  @Field(() => String, { nullable: true, description: "The entry's id at the provider." })
  id!: string | null;

  @Field(() => Int, { description: 'Page of the import (1-based).' })
  page!: number;

  @Field(() => Int, { description: 'Position on that page (0-based).' })
  index!: number;

  @Field(() => String)
  reason!: string;
}

@ObjectType('OptimadeImportProgress', { description: "An OPTIMADE import's counts so far, recorded with every stored page." })
export class OptimadeImportProgressType {
  @Field(() => String, { description: 'RUNNING, or DONE after the last page.' })
  phase!: string;

  @Field(() => Int, { description: 'Pages stored.' })
  pages!: number;

  @Field(() => Int, { description: 'Entries read: imported + duplicates + skipped.' })
  received!: number;

  @Field(() => Int, { description: 'Entries stored as new materials.' })
  imported!: number;

  @Field(() => Int, { description: 'Entries already stored (same provider record or same structure), not written again.' })
  duplicates!: number;

  @Field(() => Int, { description: 'Entries not stored (see skippedEntries).' })
  skipped!: number;

  @Field(() => [SkippedEntryType], { description: 'The first 100 skipped entries, with the reason.' })
  skippedEntries!: SkippedEntryType[];

  @Field(() => Int, { nullable: true, description: "How many entries the filter matches at the provider (its meta.data_returned)." })
  dataReturned!: number | null;

  @Field(() => String, { nullable: true, description: 'The provider prefix (e.g. "mp"), or its host when it gives none.' })
  provider!: string | null;

  @Field(() => String, { nullable: true, description: 'The next page to fetch: where a retried or resumed import continues.' })
  nextUrl!: string | null;

  @Field(() => Int, { description: 'Requests retried (429, 5xx, network errors).' })
  retries!: number;
}

@ObjectType('Job', { description: 'A background job run by a worker (ionsieve trainer, or the one in ionsieve start).' })
export class JobType {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'import_optimade, train_model, embed_materials.' })
  kind!: string;

  @Field(() => JobStatusValue)
  status!: JobStatusValue;

  @Field(() => Int, { description: 'Attempts started so far.' })
  attempts!: number;

  @Field(() => Int)
  maxAttempts!: number;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed.' })
  lastError!: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'What the job was asked to do.' })
  payload!: unknown;

  @Field(() => JSONScalar, { nullable: true, description: 'Its result once DONE.' })
  result!: unknown;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  finishedAt!: Date | null;
}
