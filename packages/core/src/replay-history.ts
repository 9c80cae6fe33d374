import { SeOptionError } from "./errors.js";
import { SizedQueue } from "./sized-queue.js";
import type { Target } from "./target.js";
import { utf8Length } from "./utf8-length.js";

/** One shared event (or marker), as kept for replay. */
export interface HistoryEntry {
  /** The id written on the wire; `undefined` for a marker (and for events sent without an id, which are not replayed). */
  readonly id: string | undefined;
  /** Its place in the one order of shared events (see `comparePositions`). */
  readonly position: string;
  readonly target: Target;
  /** The formatted frame, exactly as it was written (`""` for a marker). */
  readonly frame: string;
  /** When it was sent (ms since epoch). */
  readonly time: number;
  /** Events for `target` may be missing here (an outage): matching clients get the reset event. */
  readonly gap?: boolean;
}

/** What followed a `Last-Event-ID`. */
export interface ReplaySlice {
  /** The position the id stands for. */
  readonly position: string;
  /** Entries after it, oldest first: events that have an id, and gaps. */
  readonly entries: readonly HistoryEntry[];
  /** True when more entries may follow the last one: ask again from its position. */
  readonly more?: boolean;
}

/**
 * Where shared events are kept so a reconnecting client can catch up. The in-memory
 * {@link MemoryReplayHistory} is the default; `@se/redis` keeps it in Redis so every
 * instance shares it. `since` may be async.
 */
export interface ReplayHistory {
  /** True when every instance sees the same history (the hub then appends nothing itself). */
  readonly shared?: boolean;
  append(entry: HistoryEntry): void;
  /**
   * What followed `key`, a wire id or a position, or `undefined` when it is not (or no longer)
   * known, so what followed it cannot be told.
   */
  since(key: string): ReplaySlice | undefined | Promise<ReplaySlice | undefined>;
  close?(): void | Promise<void>;
}

/** Limits of a {@link MemoryReplayHistory}; whichever is reached first evicts the oldest. */
export interface MemoryReplayHistoryOptions {
  /** @default 1000 */
  maxEvents?: number;
  /** Total size of the kept frames in UTF-8 bytes. @default 1 MiB */
  maxBytes?: number;
  /** @default 300_000 (5 minutes) */
  maxAgeMs?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/** A bounded, in-process replay history: a ring of recent events indexed by id and position. */
export class MemoryReplayHistory implements ReplayHistory {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly #now: () => number;
  /** Kept entries, oldest first, sized in UTF-8 bytes; an evicted entry is released at once. */
  readonly #entries = new SizedQueue<HistoryEntry>();
  /** Sequence number of the oldest kept entry; `#seqByKey` maps ids and positions to these numbers. */
  #firstSeq = 0;
  #last: HistoryEntry | undefined;
  readonly #seqByKey = new Map<string, number>();

  /** @throws {SeOptionError} when a limit is not a non-negative number. */
  constructor(options: MemoryReplayHistoryOptions = {}) {
    this.maxEvents = limit("maxEvents", options.maxEvents, 1000);
    this.maxBytes = limit("maxBytes", options.maxBytes, 1024 * 1024);
    this.maxAgeMs = limit("maxAgeMs", options.maxAgeMs, 300_000);
    this.#now = options.now ?? Date.now;
  }

  /** Number of entries currently kept. */
  get size(): number {
    return this.#entries.length;
  }

  /** Total size of the kept frames, in UTF-8 bytes. */
  get bytes(): number {
    return this.#entries.bytes;
  }

  append(entry: HistoryEntry): void {
    const seq = this.#firstSeq + this.#entries.length;
    this.#seqByKey.set(entry.position, seq);
    if (entry.id !== undefined && entry.id !== entry.position) this.#seqByKey.set(entry.id, seq);
    this.#entries.push(entry, utf8Length(entry.frame));
    this.#last = entry;
    this.#evict(entry.time);
  }

  /**
   * Entries after `key`. The newest entry is always known, so a client that missed nothing is
   * not reset after its event aged out of a quiet history.
   */
  since(key: string): ReplaySlice | undefined {
    this.#evict(this.#now());
    const seq = this.#seqByKey.get(key);
    if (seq === undefined || seq < this.#firstSeq) {
      const last = this.#last;
      if (last !== undefined && (key === last.position || key === last.id)) {
        return { position: last.position, entries: [] };
      }
      return undefined;
    }
    const from = seq - this.#firstSeq;
    const position = this.#entries.at(from).position;
    const entries = this.#entries.slice(from + 1).filter(isReplayable);
    return { position, entries };
  }

  #evict(now: number): void {
    const oldest = now - this.maxAgeMs;
    const entries = this.#entries;
    while (entries.length > 0) {
      const first = entries.peek();
      if (
        entries.length <= this.maxEvents &&
        entries.bytes <= this.maxBytes &&
        first.time >= oldest
      ) {
        break;
      }
      this.#forget(first.position);
      if (first.id !== undefined) this.#forget(first.id);
      entries.shift();
      this.#firstSeq++;
    }
  }

  #forget(key: string): void {
    if (this.#seqByKey.get(key) === this.#firstSeq) this.#seqByKey.delete(key);
  }
}

function isReplayable(entry: HistoryEntry): boolean {
  return entry.id !== undefined || entry.gap === true;
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new SeOptionError(name, `must be a non-negative number, got ${String(value)}`);
  }
  return value;
}
