/** React hooks over the client: one query with loading/error state, and the schema's capabilities. */
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { ApiError, asApiError, request } from './client.js';
import { CAPABILITIES } from './queries.js';
import type { TypedString } from './typed.js';

export interface QueryState<TData> {
  data: TData | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Runs the query again (keeps the old data on screen while loading). */
  reload(): void;
}

/**
 * Runs `document` whenever `key` (a string of the variables that matter) changes; aborts the
 * previous request. `skip` leaves the state idle (for queries whose API part is missing).
 */
export function useQuery<TData = unknown, TVariables = Record<string, unknown>>(
  document: TypedString<TData, TVariables> | string,
  variables: TVariables,
  options: { skip?: boolean } = {},
): QueryState<TData> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data?: TData; error?: ApiError; loading: boolean }>({ loading: !options.skip });
  const [generation, setGeneration] = useState(0);
  const variablesRef = useRef(variables);
  variablesRef.current = variables;

  useEffect(() => {
    if (options.skip) {
      setState({ loading: false });
      return;
    }
    const controller = new AbortController();
    setState((previous) => ({ data: previous.data, loading: true }));
    request<TData, TVariables>(document, variablesRef.current, controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ error: asApiError(error), loading: false });
      },
    );
    return () => controller.abort();
  }, [document, key, generation, options.skip]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** What the running API offers; `null` sets mean "unknown" (introspection off): try everything. */
export interface Capabilities {
  query: Set<string> | null;
  mutation: Set<string> | null;
  subscription: Set<string> | null;
  materialFields: Set<string> | null;
  /** Model field name → its named type and kind (after unwrapping lists and non-null). */
  modelFields: Map<string, { kind: string; name: string | null }> | null;
}

export const UNKNOWN_CAPABILITIES: Capabilities = { query: null, mutation: null, subscription: null, materialFields: null, modelFields: null };

export const CapabilitiesContext = createContext<{ caps: Capabilities; loaded: boolean }>({ caps: UNKNOWN_CAPABILITIES, loaded: false });

interface TypeRef {
  kind: string;
  name: string | null;
  ofType?: TypeRef | null;
}

/** The named type under any LIST / NON_NULL wrappers. */
export function namedType(type: TypeRef): { kind: string; name: string | null } {
  let current: TypeRef = type;
  while ((current.kind === 'NON_NULL' || current.kind === 'LIST') && current.ofType) current = current.ofType;
  return { kind: current.kind, name: current.name };
}

export async function loadCapabilities(): Promise<Capabilities> {
  try {
    const data = await request(CAPABILITIES);
    const names = (type: { fields: { name: string }[] | null } | null) => new Set(type?.fields?.map((field) => field.name) ?? []);
    return {
      query: names(data.__schema.queryType),
      mutation: names(data.__schema.mutationType),
      subscription: names(data.__schema.subscriptionType),
      materialFields: names(data.material),
      modelFields: new Map((data.model?.fields ?? []).map((field) => [field.name, namedType(field.type)])),
    };
  } catch {
    // Introspection may be disabled in production (issue 6): then every view simply tries.
    return UNKNOWN_CAPABILITIES;
  }
}

export function useCapabilities(): { caps: Capabilities; loaded: boolean } {
  return useContext(CapabilitiesContext);
}

/** True unless the schema is known and lacks the field (`Query.screen`, `Material.embedding`, …). */
export function has(caps: Capabilities, field: string): boolean {
  const [owner, name] = field.split('.') as [string, string];
  const set =
    owner === 'Query' ? caps.query : owner === 'Mutation' ? caps.mutation : owner === 'Subscription' ? caps.subscription : owner === 'Material' ? caps.materialFields : null;
  if (owner === 'Model') return caps.modelFields === null || caps.modelFields.has(name);
  return set === null || set.has(name);
}

/** The fields among `fields` that the API lacks, e.g. ['Query.screen']. */
export function missing(caps: Capabilities, ...fields: string[]): string[] {
  return fields.filter((field) => !has(caps, field));
}
