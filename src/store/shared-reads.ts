/**
 * Reads that requests may share: the parts of answers that outlive a label (a model with its
 * screening view, material rows, current labels, nearest FAST references) are read once and
 * reused by later requests until something they depend on changes.
 *
 * The API's response cache supplies an implementation per request, valid from the change-feed
 * position that request synced to (src/graphql/cache/response-cache.ts: same tags, same race check as
 * whole answers). Code without one — mutations, the CLI, the trainer — reads directly.
 *
 * A shared value is handed to many requests: treat it as read-only.
 */
export interface SharedReads {
  /**
   * The value of `load()` under `key`: from an earlier read of this or another request when none
   * of the tags it was stored with (`tagsOf(value)`: tables or rows it was read from) changed since.
   */
  read<T>(key: string, load: () => Promise<T>, tagsOf: (value: T) => readonly string[]): Promise<T>;
  /**
   * `read` for many keys at once: `load` gets the positions (into `keys`) that no earlier read
   * covers and returns their values in that order — one statement for all the misses.
   */
  readMany<T>(keys: readonly string[], load: (missing: readonly number[]) => Promise<T[]>, tagsOf: (value: T, index: number) => readonly string[]): Promise<T[]>;
}

/** Every read goes to the database. */
export const DIRECT_READS: SharedReads = {
  read: (_key, load) => load(),
  readMany: (keys, load) => load(keys.map((_, i) => i)),
};
