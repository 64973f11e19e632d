/** Custom scalars used by the schema (from graphql-scalars), named once here. */
export { GraphQLDateTime as DateTimeScalar, GraphQLJSON as JSONScalar } from 'graphql-scalars';
