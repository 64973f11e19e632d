/** Jobs: `job(id)` and `importOptimade` (admins). Resolvers only map arguments to services. */
import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { JobRecord } from '../../jobs/queue.js';
import { findJob } from '../../services/jobs.js';
import { IMPORT_OPTIMADE_TASK, startOptimadeImport, type OptimadeImportProgress } from '../../services/optimade-import.js';
import { createdByOf, type Role } from '../../services/tokens.js';
import type { GraphQLContext } from '../context.js';
import { ImportOptimadeInput } from './job.input.js';
import { JobType, OptimadeImportProgressType } from './job.type.js';

@Resolver(() => JobType)
export class JobResolver {
  @Authorized<Role>('admin')
  @Query(() => JobType, { nullable: true, description: 'The job with this id (null when there is none). Admins only.' })
  job(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<JobRecord | null> {
    return findJob(ctx.db, id);
  }

  @Authorized<Role>('admin')
  @Mutation(() => JobType, {
    description:
      'Queues an OPTIMADE import: a worker pages through BASE_URL/v1/structures?filter=… and stores each entry as a material ' +
      '(provenance, provider properties), one transaction per page, retrying 429/5xx and resuming where it stopped. ' +
      'Follow it with job(id) { status optimadeImport { … } }. The base URL\'s host must be on IONSIEVE_OPTIMADE_HOSTS. Admins only.',
  })
  importOptimade(@Arg('input', () => ImportOptimadeInput) input: ImportOptimadeInput, @Ctx() ctx: GraphQLContext): Promise<JobRecord> {
    return startOptimadeImport(ctx.db, input, { allowedHosts: ctx.config.optimadeHosts, actor: createdByOf(ctx.principal) ?? null });
  }

  @FieldResolver(() => OptimadeImportProgressType, {
    nullable: true,
    description: "An OPTIMADE import's counts and skipped entries (null for other kinds, and before its first page is stored).",
  })
  optimadeImport(@Root() job: JobRecord): OptimadeImportProgress | null {
    if (job.kind !== IMPORT_OPTIMADE_TASK) return null;
    return (job.progress ?? (job.status === 'DONE' ? job.result : null)) as OptimadeImportProgress | null;
  }
}
