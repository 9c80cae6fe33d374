import type { Target } from "./target.js";

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
  /** Total frame size, in UTF-16 code units (bytes for ASCII text). @default 1 MiB */
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
  #entries: HistoryEntry[] = [];
  #head = 0;
  #firstSeq = 0;
  #bytes = 0;
  readonly #seqById = new Map<string, number>();

  constructor(options: MemoryReplayHistoryOptions = {}) {
    this.maxEvents = options.maxEvents ?? 1000;
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** Number of events currently kept. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Total size of the kept frames. */
  get bytes(): number {
    return this.#bytes;
  }

  append(entry: HistoryEntry): void {
    this.#seqById.set(entry.id, this.#firstSeq + this.#entries.length - this.#head);
    this.#entries.push(entry);
    this.#bytes += entry.frame.length;
    this.#evict(entry.time);
  }

  since(lastEventId: string): readonly HistoryEntry[] | undefined {
    this.#evict(this.#now());
    const seq = this.#seqById.get(lastEventId);
    if (seq === undefined) return undefined;
    return this.#entries.slice(this.#head + seq - this.#firstSeq + 1);
  }

  #evict(now: number): void {
    const oldest = now - this.maxAgeMs;
    while (this.size > 0) {
      const first = this.#entries[this.#head] as HistoryEntry;
      if (this.size <= this.maxEvents && this.#bytes <= this.maxBytes && first.time >= oldest) {
        break;
      }
      this.#bytes -= first.frame.length;
      if (this.#seqById.get(first.id) === this.#firstSeq) this.#seqById.delete(first.id);
      this.#head++;
      this.#firstSeq++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
