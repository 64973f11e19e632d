import { Field, InputType, Int } from 'type-graphql';

@InputType('ImportOptimadeInput', { description: 'An import from an OPTIMADE provider (its host must be on IONSIEVE_OPTIMADE_HOSTS).' })
export class ImportOptimadeInput {
  @Field(() => String, { description: 'The provider\'s base URL, e.g. "https://optimade.materialsproject.org" (pages come from BASE_URL/v1/structures).' })
  baseUrl!: string;

  @Field(() => String, { nullable: true, description: 'An OPTIMADE filter, passed to the provider as is, e.g. `elements HAS "Li" AND nelements<=4`; null imports all.' })
  filter?: string | null;

  @Field(() => Int, { nullable: true, description: 'Stop after this many entries (skipped ones included).' })
  maxEntries?: number | null;

  @Field(() => Int, { nullable: true, description: 'Entries per page asked of the provider (page_limit), 1–1000; default 100.' })
  pageLimit?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Store structures whose density is outside [0.1, 25] g/cm³ (skipped otherwise).' })
  allowUnusualDensity?: boolean | null;
}
