/**
 * Relay-style cursor connections: `PageInfo`, a factory for `<Node>Connection` / `<Node>Edge` types,
 * the page arguments (`first`, `after`) and their validation.
 */
import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { BadInputError } from '../errors.js';
import type { Page, PageResult } from '../services/materials.js';

/** Page size when a client does not give `first`. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest page a client may ask for: bounds the work and the response size of one request. */
export const MAX_PAGE_SIZE = 200;

@ObjectType('PageInfo')
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first edge of this page; null when empty.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge; pass it as `after` for the next page.' })
  endCursor!: string | null;
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: DEFAULT_PAGE_SIZE, description: `Page size, 1–${MAX_PAGE_SIZE}.` })
  first!: number;

  @Field(() => String, { nullable: true, description: 'Opaque cursor: return the items after this one.' })
  after?: string | null;
}

/** Checks page arguments (type-graphql runs without class-validator here) and converts them for services. */
export function toPage(args: { first?: number | null; after?: string | null }): Page {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadInputError(`first must be between 1 and ${MAX_PAGE_SIZE}, got ${first}`, { argument: 'first' });
  }
  return { first, after: args.after ?? null };
}

export interface Edge<TNode> {
  cursor: string;
  node: TNode;
}

export interface Connection<TNode> {
  totalCount: number;
  edges: Edge<TNode>[];
  nodes: TNode[];
  pageInfo: PageInfo;
}

/** Shapes a service page as a connection; nodes are the service records, resolved by the node type's fields. */
export function toConnection<TNode>(result: PageResult<TNode>): Connection<TNode> {
  return {
    totalCount: result.totalCount,
    edges: result.items.map((node, i) => ({ cursor: result.cursors[i]!, node })),
    nodes: result.items,
    pageInfo: {
      hasNextPage: result.hasNextPage,
      hasPreviousPage: result.hasPreviousPage,
      startCursor: result.startCursor,
      endCursor: result.endCursor,
    },
  };
}

/**
 * Declares the `<name>Edge` object type and an abstract connection class for a node type; the concrete
 * connection is named where it is declared:
 * `@ObjectType('MaterialConnection') class MaterialConnection extends connectionType('Material', MaterialType) {}`.
 */
export function connectionType<TNode extends object>(name: string, nodeType: ClassType<TNode>) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: TNode;
  }

  // Named so two connection factories never clash; only the concrete subclasses appear in the schema.
  @ObjectType(`${name}ConnectionBase`)
  abstract class ConnectionType {
    @Field(() => Int, { description: 'Number of items matching the query, over all pages.' })
    totalCount!: number;

    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => [nodeType], { description: 'The nodes of `edges`, for clients that do not need cursors.' })
    nodes!: TNode[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionType;
}
