/**
 * Selections built from the schema for the two payloads whose shape the contract leaves open
 * (`Model.hyperparameters`: a JSON scalar or an object; `Subscription.trainingProgress`: a progress
 * object or a whole Model). Everything else is selected by the static documents in queries.ts.
 */
import { request } from './client.js';
import { namedType } from './hooks.js';
import { SUBSCRIPTION_FIELDS, TYPE_FIELDS } from './queries.js';

const LEAF_KINDS = new Set(['SCALAR', 'ENUM']);

/**
 * `{ leaf fields … nested { leaf fields } }` of an object type, one level deep, skipping fields that
 * require arguments; `''` for a scalar; `null` when the type is unknown.
 */
export async function leafSelection(typeName: string, depth = 1): Promise<string | null> {
  const data = await request(TYPE_FIELDS, { name: typeName });
  const type = data.__type;
  if (!type) return null;
  if (LEAF_KINDS.has(type.kind)) return '';
  const parts: string[] = [];
  for (const field of type.fields ?? []) {
    if (field.args.some((arg) => arg.type.kind === 'NON_NULL')) continue;
    const named = namedType(field.type);
    if (LEAF_KINDS.has(named.kind)) parts.push(field.name);
    else if (depth > 0 && named.kind === 'OBJECT' && named.name) {
      const nested = await leafSelection(named.name, depth - 1);
      if (nested) parts.push(`${field.name} ${nested}`);
    }
  }
  return parts.length ? `{ ${parts.join(' ')} }` : null;
}

/** The named return type of `Subscription.<field>`, or null when there is none or introspection is off. */
export async function subscriptionPayloadType(field: string): Promise<string | null> {
  try {
    const data = await request(SUBSCRIPTION_FIELDS);
    const match = data.__schema.subscriptionType?.fields?.find((f) => f.name === field);
    return match ? namedType(match.type).name : null;
  } catch {
    return null;
  }
}
