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

const fragments = new Map<string, string>();
const SPREAD = /\.\.\.\s*(?!on\b)([_A-Za-z]\w*)/g;

/** Registers a fragment (`fragment Name on Type { … }`) that documents may spread; returns its text. */
export function fragment(text: string): string {
  const name = /^\s*fragment\s+([_A-Za-z]\w*)/.exec(text)?.[1];
  if (!name) throw new Error('not a fragment definition');
  fragments.set(name, text);
  return text;
}

/** The fragments a text spreads, directly or through other fragments, each once. */
function spreadFragments(text: string, seen = new Set<string>()): string[] {
  const out: string[] = [];
  for (const [, name] of text.matchAll(SPREAD)) {
    if (!name || seen.has(name)) continue;
    const definition = fragments.get(name);
    if (!definition) throw new Error(`unknown fragment ${name}`);
    seen.add(name);
    out.push(definition, ...spreadFragments(definition, seen));
  }
  return out;
}

/** A document with the fragments it spreads appended, typed with its generated result and variables. */
export function typed<TData, TVariables = Record<string, never>>(text: string): TypedString<TData, TVariables> {
  return [text, ...spreadFragments(text)].join('');
}
