/**
 * Typed documents as plain strings. A document is sent as its text; its result and variables types
 * (generated into graphql.ts by `npm run codegen`) ride along in the type only, the way
 * `@graphql-typed-document-node/core`'s DocumentTypeDecoration does, so `request(SCREEN, …)` knows
 * what it returns without a hand-written shape.
 */

/** A document's text that carries its result type `TData` and variables type `TVariables`. */
export type TypedString<TData, TVariables> = string & { readonly __apiType?: (variables: TVariables) => TData };

export type ResultOf<T> = T extends TypedString<infer TData, any> ? TData : never;
export type VariablesOf<T> = T extends TypedString<any, infer TVariables> ? TVariables : never;

/** Fragment name → its selection, without the braces. */
const fragments = new Map<string, string>();
const SPREAD = /\.\.\.\s*(?!on\b)([_A-Za-z]\w*)/g;

/**
 * Registers a fragment (`fragment Name on Type { … }`) that documents may spread; returns its text.
 * Fragments exist for the code generator (shared selections get one type); the documents sent
 * have them inlined, as the server's depth limit counts each fragment spread as a level.
 */
export function fragment(text: string): string {
  const match = /^\s*fragment\s+([_A-Za-z]\w*)\s+on\s+[_A-Za-z]\w*\s*\{/.exec(text);
  const end = text.lastIndexOf('}');
  if (!match?.[1] || end < match[0].length) throw new Error('not a fragment definition');
  fragments.set(match[1], text.slice(match[0].length, end));
  return text;
}

/** The text with every fragment spread replaced by the fragment's selection (recursively). */
function inlineFragments(text: string, depth = 0): string {
  if (depth > 10) throw new Error('fragments spread each other in a cycle');
  return text.replace(SPREAD, (_spread, name: string) => {
    const selection = fragments.get(name);
    if (selection === undefined) throw new Error(`unknown fragment ${name}`);
    return inlineFragments(selection, depth + 1);
  });
}

/** A document with its fragment spreads inlined, typed with its generated result and variables. */
export function typed<TData, TVariables = Record<string, never>>(text: string): TypedString<TData, TVariables> {
  return inlineFragments(text);
}
