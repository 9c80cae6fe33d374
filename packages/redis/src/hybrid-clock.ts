/** Options of a {@link HybridClock}. */
export interface HybridClockOptions {
  /** Wall clock in ms. @default Date.now */
  now?: () => number;
  /** Suffix that makes this clock's ids unique among instances. @default 8 random hex digits */
  node?: string;
}

const ID_PATTERN = /^(\d{16})-/;

/**
 * A hybrid logical clock that makes event ids without asking Redis.
 *
 * An id is `<16-digit counter>-<node>`. The counter is `max(now() * 1000, last + 1)`, and
 * `last` also moves up to every id {@link observe}d from other instances. So:
 * - ids of one instance strictly increase, even when its wall clock steps back;
 * - an id made after an instance received another instance's event is greater than it;
 * - the node suffix keeps two instances that hit the same counter apart.
 *
 * Ids compare correctly as plain strings (the counter is fixed-width until the year 2286).
 * Ids made concurrently on two instances (neither having seen the other's) are ordered by
 * their wall clocks, which may disagree by the clock skew between the machines.
 */
export class HybridClock {
  readonly node: string;
  readonly #now: () => number;
  #last = 0;

  /** @throws {TypeError} when `node` is empty or holds anything but letters, digits, `_`. */
  constructor(options: HybridClockOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.node = options.node ?? globalThis.crypto.randomUUID().slice(0, 8);
    if (!/^\w+$/.test(this.node)) {
      throw new TypeError(`HybridClock node must match /^\\w+$/, got ${JSON.stringify(this.node)}`);
    }
  }

  /** The next id: greater than every id this clock made or observed. */
  next(): string {
    const candidate = Math.floor(this.#now()) * 1000;
    this.#last = candidate > this.#last ? candidate : this.#last + 1;
    return `${String(this.#last).padStart(16, "0")}-${this.node}`;
  }

  /** Moves the clock past an id made elsewhere. Ids in another format are ignored. */
  observe(id: string): void {
    const match = ID_PATTERN.exec(id);
    if (match === null) return;
    const counter = Number(match[1]);
    if (counter > this.#last) this.#last = counter;
  }
}
