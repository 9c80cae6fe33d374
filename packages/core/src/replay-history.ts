import { SeOptionError } from "./errors.js";
import { SizedQueue } from "./sized-queue.js";
import type { Target } from "./target.js";
import { utf8Length } from "./utf8-length.js";

/** One sent event, as kept for replay. */
export interface HistoryEntry {
  readonly id: string;
  readonly target: Target;
  /** The formatted frame, exactly as it was written. */
  readonly frame: string;
  /** When it was sent (ms since epoch). */
  readonly time: number;
}

/**
 * Where sent events are kept so a reconnecting client can catch up. The in-memory
 * {@link MemoryReplayHistory} is the default; `@se/redis` keeps it in Redis so every
 * instance shares it. `since` may be async.
 */
export interface ReplayHistory {
  /** True when every instance sees the same history (events from other instances are not appended). */
  readonly shared?: boolean;
  append(entry: HistoryEntry): void;
  /**
   * Entries sent after `lastEventId`, oldest first, or `undefined` when that id is not
   * (or no longer) in the history, so what followed it cannot be known.
   */
  since(
    lastEventId: string,
  ): readonly HistoryEntry[] | undefined | Promise<readonly HistoryEntry[] | undefined>;
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

/** A bounded, in-process replay history: a ring of recent events indexed by id. */
export class MemoryReplayHistory implements ReplayHistory {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly #now: () => number;
  /** Kept entries, oldest first, sized in UTF-8 bytes; an evicted entry is released at once. */
  readonly #entries = new SizedQueue<HistoryEntry>();
  /** Sequence number of the oldest kept entry; `#seqById` maps ids to these numbers. */
  #firstSeq = 0;
  #lastId: string | undefined;
  readonly #seqById = new Map<string, number>();

  /** @throws {SeOptionError} when a limit is not a non-negative number. */
  constructor(options: MemoryReplayHistoryOptions = {}) {
    this.maxEvents = limit("maxEvents", options.maxEvents, 1000);
    this.maxBytes = limit("maxBytes", options.maxBytes, 1024 * 1024);
    this.maxAgeMs = limit("maxAgeMs", options.maxAgeMs, 300_000);
    this.#now = options.now ?? Date.now;
  }

  /** Number of events currently kept. */
  get size(): number {
    return this.#entries.length;
  }

  /** Total size of the kept frames, in UTF-8 bytes. */
  get bytes(): number {
    return this.#entries.bytes;
  }

  append(entry: HistoryEntry): void {
    this.#seqById.set(entry.id, this.#firstSeq + this.#entries.length);
    this.#entries.push(entry, utf8Length(entry.frame));
    this.#lastId = entry.id;
    this.#evict(entry.time);
  }

  /**
   * Entries after `lastEventId`. The newest id ever appended is always known, so a client
   * that missed nothing is not reset after its event aged out of a quiet history.
   */
  since(lastEventId: string): readonly HistoryEntry[] | undefined {
    this.#evict(this.#now());
    const seq = this.#seqById.get(lastEventId);
    if (seq === undefined) return lastEventId === this.#lastId ? [] : undefined;
    return this.#entries.slice(seq - this.#firstSeq + 1);
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
      if (this.#seqById.get(first.id) === this.#firstSeq) this.#seqById.delete(first.id);
      entries.shift();
      this.#firstSeq++;
    }
  }
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new SeOptionError(name, `must be a non-negative number, got ${String(value)}`);
  }
  return value;
}
