import type { Connection } from "./connection.js";

/** A live, read-only view of seid → open connections. */
export class ClientsView implements ReadonlyMap<string, ReadonlySet<Connection>> {
  readonly #map: Map<string, Set<Connection>>;

  /** @internal */
  constructor(map: Map<string, Set<Connection>>) {
    this.#map = map;
  }

  get size(): number {
    return this.#map.size;
  }
  get(seid: string): ReadonlySet<Connection> | undefined {
    return this.#map.get(seid);
  }
  has(seid: string): boolean {
    return this.#map.has(seid);
  }
  keys(): MapIterator<string> {
    return this.#map.keys();
  }
  values(): MapIterator<ReadonlySet<Connection>> {
    return this.#map.values();
  }
  entries(): MapIterator<[string, ReadonlySet<Connection>]> {
    return this.#map.entries();
  }
  forEach(
    callback: (
      value: ReadonlySet<Connection>,
      key: string,
      map: ReadonlyMap<string, ReadonlySet<Connection>>,
    ) => void,
    thisArg?: unknown,
  ): void {
    for (const [key, value] of this.#map) callback.call(thisArg, value, key, this);
  }
  [Symbol.iterator](): MapIterator<[string, ReadonlySet<Connection>]> {
    return this.#map.entries();
  }
}
