/** Whether an operation may be cached, and the static tags of the fields it selects. */
import {
  getNamedType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { FIELD_RULES } from './tags.js';
// ---------------------------------------------------------------------------------------------
// Static analysis of an operation

export interface CachePlan {
  cacheable: boolean;
  /** Table tags from FIELD_RULES. */
  tags: readonly string[];
  /** Why not, for logs and tests. */
  reason?: string;
}

/** Whether an operation may be cached, and the table tags its fields add (FIELD_RULES). */
export function planOperation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): CachePlan {
  if (operation.operation !== 'query') return { cacheable: false, tags: [], reason: `${operation.operation}s are not cached` };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const tags = new Set<string>();
  const seenFragments = new Set<string>();
  let reason: string | undefined;

  const visit = (selectionSet: SelectionSetNode, parent: GraphQLObjectType): void => {
    for (const selection of selectionSet.selections) {
      if (reason) return;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seenFragments.has(fragment.name.value)) continue;
        seenFragments.add(fragment.name.value);
        const on = schema.getType(fragment.typeCondition.name.value);
        if (isObjectType(on)) visit(fragment.selectionSet, on);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (isObjectType(on)) visit(selection.selectionSet, on);
        continue;
      }
      const name = selection.name.value;
      if (name === '__typename') continue;
      if (name.startsWith('__')) {
        reason = 'introspection is not cached';
        return;
      }
      const rule = FIELD_RULES[`${parent.name}.${name}`];
      if (rule === 'never') {
        reason = `${parent.name}.${name} is never cached`;
        return;
      }
      // A root field without a rule is not known to be cacheable; nested plain fields need none.
      if (rule === undefined && parent === schema.getQueryType()) {
        reason = `${parent.name}.${name} has no cache rule`;
        return;
      }
      if (Array.isArray(rule)) for (const tag of rule) tags.add(tag);
      const field = parent.getFields()[name];
      if (!field) continue; // validation already refused unknown fields
      const type = getNamedType(field.type);
      if (selection.selectionSet && isObjectType(type)) visit(selection.selectionSet, type);
    }
  };
  const query = schema.getQueryType();
  if (!query) return { cacheable: false, tags: [], reason: 'no query type' };
  visit(operation.selectionSet, query);
  return reason ? { cacheable: false, tags: [], reason } : { cacheable: true, tags: [...tags] };
}

