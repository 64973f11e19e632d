/** API tokens in the schema. A token's secret appears once, in `CreatedApiToken`; its hash never. */
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../scalars.js';

/** GraphQL names are upper case; the values are the stored role names. */
export enum ApiTokenRoleValue {
  READER = 'reader',
  CURATOR = 'curator',
  ADMIN = 'admin',
}

registerEnumType(ApiTokenRoleValue, {
  name: 'ApiTokenRole',
  description: 'What a token may do; each role includes the ones before it.',
  valuesConfig: {
    READER: { description: 'Queries and subscriptions (open to anyone unless the server requires a token).' },
    CURATOR: { description: 'Also adds materials and adds or retracts labels.' },
    ADMIN: { description: 'Also trains, activates and cancels models, and manages tokens.' },
  },
});

@ObjectType('ApiToken', { description: 'An API token (its secret is shown only when it is created).' })
export class ApiTokenType {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Recorded as `createdBy` on what the token writes.' })
  name!: string;

  @Field(() => ApiTokenRoleValue)
  role!: ApiTokenRoleValue;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => String, { nullable: true, description: 'The token (or `cli`) that created it.' })
  createdBy!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Last authenticated use, to the minute.' })
  lastUsedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Set once revoked; a revoked token is refused.' })
  revokedAt!: Date | null;
}

@ObjectType('CreatedApiToken', { description: 'A new token and its secret: store the secret now, it cannot be read again.' })
export class CreatedApiTokenType {
  @Field(() => ApiTokenType)
  token!: ApiTokenType;

  @Field(() => String, { description: 'Send as `Authorization: Bearer <secret>`.' })
  secret!: string;
}

@InputType('CreateApiTokenInput')
export class CreateApiTokenInput {
  @Field(() => String, { description: 'Unique among live tokens; 1–128 letters, digits, spaces or . _ @ : -.' })
  name!: string;

  @Field(() => ApiTokenRoleValue)
  role!: ApiTokenRoleValue;
}

@ObjectType('Viewer', { description: 'Who the request is authenticated as.' })
export class ViewerType {
  @Field(() => Boolean, { description: 'False without a token.' })
  authenticated!: boolean;

  @Field(() => String, { nullable: true, description: 'The token name.' })
  name!: string | null;

  @Field(() => ApiTokenRoleValue, { nullable: true })
  role!: ApiTokenRoleValue | null;
}
