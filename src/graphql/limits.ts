/**
 * What one GraphQL operation may ask for — the same rules over HTTP (Apollo) and graphql-ws:
 *
 * - tokens: graphql-js' own parser limit (`parse(…, { maxTokens })`) rejects a document while lexing,
 *   before an AST is built (400, `GRAPHQL_PARSE_FAILED`). graphql-armor's token plugin throws from an
 *   Apollo hook, which Apollo answers with a 500, so it is not used.
 * - depth, aliases, directives: graphql-armor's validation rules (400, `GRAPHQL_VALIDATION_FAILED`,
 *   `extensions.limit` names the limit).
 * - cost: `operationCost` below, checked once variables are known. graphql-armor's cost rule multiplies
 *   only by literal `first`/`last` arguments, so `first: $n` or `k: 100` would pass it unpriced.
 * - introspection: configurable; when off, "Did you mean …" suggestions leave validation errors too.
 *
 * List arguments are bounded where they are read (page `first` ≤ MAX_PAGE_SIZE, `k` ≤ MAX_NEIGHBOURS,
 * addMaterials ≤ maxBatchSize, element filters ≤ the element table); the cost bounds their products.
 */
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  getArgumentValues,
  getVariableValues,
  getNamedType,
  getOperationAST,
  isCompositeType,
  isObjectType,
  isInterfaceType,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { Limits } from '../config.js';

/** Not configurable: no operation of this API needs more than a handful. */
export const MAX_DIRECTIVES = 50;

export type LimitName = 'depth' | 'aliases' | 'directives' | 'cost';

/**
 * The estimated cost of an operation: every field counts 1, an object field adds its selection, and a
 * field with a size argument — `first`, `k`, or `k` of an argument named `input` — is multiplied by it
 * (literal, variable or default), so `screen(first: 200) { edges { nearestFast(k: 3) { … } } }` costs
 * about 200 × (edge fields + 3 × neighbour fields). Lists without a size argument (a material's labels
 * or sites, the models) are bounded by the data, not by the client, and count once. `@skip`/`@include`
 * are ignored (an upper bound). Fragments are priced once each, so nested spreads cannot blow it up.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables?: Record<string, unknown> | null,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCosts = new Map<string, number>();
  const variableValues = variables ?? {};

  const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) total += fieldCost(selection, parent);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typed = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        total += selectionCost(selection.selectionSet, typed && isCompositeType(typed) ? typed : parent);
      } else {
        const name = selection.name.value;
        let cost = fragmentCosts.get(name);
        if (cost === undefined) {
          fragmentCosts.set(name, 0); // a cycle (rejected by validation anyway) costs nothing more
          const fragment = fragments.get(name);
          const typed = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
          cost = fragment && typed && isCompositeType(typed) ? selectionCost(fragment.selectionSet, typed) : 0;
          fragmentCosts.set(name, cost);
        }
        total += cost;
      }
    }
    return total;
  };

  const fieldCost = (node: FieldNode, parent: GraphQLCompositeType): number => {
    const definition = fieldDefinition(schema, parent, node.name.value);
    if (!definition) return 1;
    const named = getNamedType(definition.type);
    const own = node.selectionSet && isCompositeType(named) ? 1 + selectionCost(node.selectionSet, named) : 1;
    return own * sizeOf(definition, node, variableValues);
  };

  return selectionCost(operation.selectionSet, root);
}

function fieldDefinition(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

function sizeOf(definition: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): number {
  if (definition.args.length === 0) return 1;
  let values: Record<string, unknown>;
  try {
    values = getArgumentValues(definition, node, variables);
  } catch {
    return 1; // invalid arguments: execution answers with the real error
  }
  const input = values.input;
  const size = values.first ?? values.k ?? (input && typeof input === 'object' ? (input as Record<string, unknown>).k : undefined);
  return typeof size === 'number' && Number.isFinite(size) ? Math.max(1, size) : 1;
}

function limitError(message: string, limit: LimitName, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, ...extra } });
}

/** graphql-armor's depth, alias and directive rules, reporting into the validation context. */
function armorRules(limits: Limits): ValidationRule[] {
  // armor prefixes its messages with "Syntax Error: " although they are validation errors.
  const report = (limit: LimitName) => [
    (context: { reportError(error: GraphQLError): void } | null, error: GraphQLError) =>
      context?.reportError(limitError(error.message.replace(/^Syntax Error: /, ''), limit)),
  ];
  return new ApolloArmor({
    blockFieldSuggestion: { enabled: false }, // Apollo's hideSchemaDetailsFromClientErrors does it
    maxTokens: { enabled: false }, // graphql-js' parser does it (see the module comment)
    costLimit: { enabled: false }, // operationCost does it
    maxDepth: { n: limits.maxDepth, propagateOnRejection: false, onReject: report('depth') },
    maxAliases: { n: limits.maxAliases, propagateOnRejection: false, onReject: report('aliases') },
    maxDirectives: { n: MAX_DIRECTIVES, propagateOnRejection: false, onReject: report('directives') },
  }).protect().validationRules;
}

/** Throws a GraphQLError (HTTP 400) when the operation costs more than `limits.maxCost`. */
export function assertCostWithinLimit(
  limits: Limits,
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables?: Record<string, unknown> | null,
): void {
  const cost = operationCost(schema, document, operationName, variables);
  if (cost > limits.maxCost) {
    throw limitError(
      `Query cost limit of ${limits.maxCost} exceeded, found ${Math.round(cost)}: ask for smaller pages (first) or fewer neighbours (k)`,
      'cost',
      { cost: Math.round(cost), maxCost: limits.maxCost, http: { status: 400 } },
    );
  }
}

/** Removes "Did you mean …?" from a validation message (what Apollo's hideSchemaDetailsFromClientErrors does). */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean(.+?)\?$/, '');
}

/** The Apollo server options that enforce `limits`. */
export function apolloLimitOptions(limits: Limits): Pick<
  ApolloServerOptions<never>,
  'introspection' | 'hideSchemaDetailsFromClientErrors' | 'validationRules' | 'parseOptions'
> & { plugins: ApolloServerPlugin<never>[] } {
  return {
    introspection: limits.introspection,
    hideSchemaDetailsFromClientErrors: !limits.introspection,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: armorRules(limits),
    plugins: [
      {
        async requestDidStart() {
          return {
            async didResolveOperation({ schema, document, operationName, request }) {
              assertCostWithinLimit(limits, schema, document, operationName, request.variables);
            },
            // hideSchemaDetailsFromClientErrors covers validation only, not variable coercion
            // ('Field "lable" is not defined by type "MaterialFilter". Did you mean "label"?').
            ...(limits.introspection
              ? {}
              : {
                  async didEncounterErrors({ errors }) {
                    for (const error of errors) error.message = withoutSuggestions(error.message);
                  },
                }),
          };
        },
      },
    ],
  };
}

/**
 * graphql-ws: parses, validates and prices an operation with the same limits as Apollo. Returns the
 * document, or the errors to send back.
 */
export function checkOperation(
  limits: Limits,
  schema: GraphQLSchema,
  payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: limits.maxTokens });
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
  const rules = [...specifiedRules, ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]), ...armorRules(limits)];
  const errors = validate(schema, document, rules);
  if (errors.length) {
    if (limits.introspection) return { errors: [...errors] };
    return {
      errors: errors.map((error) => new GraphQLError(withoutSuggestions(error.message), { nodes: error.nodes, extensions: error.extensions })),
    };
  }
  // Coerced here rather than in execute, so that a bad variable's message loses its suggestions too.
  const operation = getOperationAST(document, payload.operationName);
  const coerced = operation ? getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {}) : undefined;
  if (coerced?.errors) {
    const mask = (message: string) => (limits.introspection ? message : withoutSuggestions(message));
    return { errors: coerced.errors.map((error) => new GraphQLError(mask(error.message), { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } })) };
  }
  try {
    assertCostWithinLimit(limits, schema, document, payload.operationName, payload.variables);
  } catch (error) {
    if (error instanceof GraphQLError) {
      const { http: _http, ...extensions } = error.extensions;
      return { errors: [new GraphQLError(error.message, { extensions })] };
    }
    throw error;
  }
  return { document };
}
