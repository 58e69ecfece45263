/**
 * A small set, in insertion order, for the per-session and per-participant sets the Relay keeps
 * by the thousand (a session's calls and rooms, the legs a participant is rung on). A `Set`
 * costs about 150 bytes even empty (its hash table); this holds nothing while empty, one
 * value by itself, and a plain array from two on. Lookups are linear: only for sets kept
 * small by a limit (calls and rooms per session, sessions per resource). Values must not be
 * arrays.
 */
export class CompactSet<T> implements Iterable<T> {
  private items: T | T[] | undefined = undefined;

  constructor(values?: Iterable<T>) {
    if (values) for (const value of values) this.add(value);
  }

  get size(): number {
    const { items } = this;
    if (items === undefined) return 0;
    return Array.isArray(items) ? items.length : 1;
  }

  has(value: T): boolean {
    const { items } = this;
    return Array.isArray(items) ? items.includes(value) : items === value && items !== undefined;
  }

  add(value: T): this {
    const { items } = this;
    if (items === undefined) this.items = value;
    else if (Array.isArray(items)) {
      // A copy of the exact size: a pushed-to array reserves room for 17.
      if (!items.includes(value)) this.items = items.concat(value);
    } else if (items !== value) this.items = [items, value];
    return this;
  }

  /** Removes `value`; false when it was not there. */
  delete(value: T): boolean {
    const { items } = this;
    if (Array.isArray(items)) {
      const at = items.indexOf(value);
      if (at < 0) return false;
      const rest = items.slice(0, at).concat(items.slice(at + 1));
      this.items = rest.length === 1 ? rest[0] : rest;
      return true;
    }
    if (items === undefined || items !== value) return false;
    this.items = undefined;
    return true;
  }

  clear(): void {
    // Written only when there is something to clear: the shared empty sets are frozen.
    if (this.items !== undefined) this.items = undefined;
  }

  /**
   * The values as they are now: like a Set's, what the loop deletes is no trouble (the loop
   * goes over a copy); unlike a Set's, values added during the loop are not visited.
   */
  [Symbol.iterator](): Iterator<T> {
    return this.values()[Symbol.iterator]();
  }

  /** The values, in insertion order, as a new array. */
  values(): T[] {
    const { items } = this;
    if (items === undefined) return [];
    return Array.isArray(items) ? items.slice() : [items];
  }
}

/** What the engines use of a set of ids: a `Set` or a {@link CompactSet}. */
export interface IdSet<T = string> extends Iterable<T> {
  readonly size: number;
  has(value: T): boolean;
  add(value: T): unknown;
  delete(value: T): boolean;
  clear(): void;
}
