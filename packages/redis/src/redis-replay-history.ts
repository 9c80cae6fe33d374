import { type HistoryEntry, type ReplayHistory, type ReplaySlice, SeError } from "@se/core";
import type { Redis } from "ioredis";
import { decodeEntry, toHistoryEntry } from "./envelope-codec.js";
import { positiveInteger } from "./positive-integer.js";
import { RedisUnavailableError } from "./redis-unavailable-error.js";
import type { StreamScripts } from "./scripts.js";
import { isStreamId } from "./stream-id.js";

/** Options of a {@link RedisReplayHistory} (`RedisBackplane.history(options)`). */
export interface RedisReplayHistoryOptions {
  /** Entries the stream keeps (`XADD … MAXLEN ~`, so Redis may keep a few more). @default 1000 */
  maxEvents?: number;
  /**
   * How long a `Last-Event-ID` can be resumed from: a caller-given id is known for this long,
   * and a position older than this, with entries after it, counts as too far behind.
   * @default 300_000 (5 minutes)
   */
  maxAgeMs?: number;
  /** Entries per `since` answer; the hub asks again for more. @default 500 */
  pageSize?: number;
}

/** The validated limits of a stream. @internal */
export interface StreamLimits {
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  readonly pageSize: number;
}

/** What a backplane gives its history. @internal */
export interface HistoryLink {
  readonly client: Redis;
  readonly scripts: StreamScripts;
  readonly key: string;
  readonly limits: StreamLimits;
  readonly isOpen: () => boolean;
  /** The newest position this instance has delivered. */
  readonly head: () => string | undefined;
}

/** @throws {SeOptionError} when a limit is not a positive integer. @internal */
export function streamLimits(options: RedisReplayHistoryOptions): StreamLimits {
  return {
    maxEvents: positiveInteger("maxEvents", options.maxEvents, 1000),
    maxAgeMs: positiveInteger("maxAgeMs", options.maxAgeMs, 300_000),
    pageSize: positiveInteger("pageSize", options.pageSize, 500),
  };
}

/**
 * The replay history of a {@link RedisBackplane}: its Redis Stream, shared by every instance,
 * so a client that reconnects to any instance with `Last-Event-ID` gets what it missed, in
 * the one order. Made by `backplane.history()` only: positions come from the backplane's
 * stream, which the backplane writes (`append` does nothing).
 */
export class RedisReplayHistory implements ReplayHistory {
  readonly shared = true;
  /** The Redis key of the stream. */
  readonly key: string;
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  readonly pageSize: number;
  /** The backplane's command connection. */
  readonly client: Redis;
  readonly #link: HistoryLink;

  /**
   * @internal Use `RedisBackplane.history()`.
   * @throws {SeError} (`SE_ERR_INVALID_OPTION`) when not called by a backplane.
   */
  constructor(link: HistoryLink) {
    if (typeof link?.isOpen !== "function" || link.scripts === undefined) {
      throw new SeError(
        "SE_ERR_INVALID_OPTION",
        "A RedisReplayHistory is made by RedisBackplane.history(): its positions come from the backplane's stream.",
      );
    }
    this.#link = link;
    this.key = link.key;
    this.client = link.client;
    ({ maxEvents: this.maxEvents, maxAgeMs: this.maxAgeMs, pageSize: this.pageSize } = link.limits);
  }

  /** Does nothing: the backplane appends every shared send to the stream. */
  append(_entry: HistoryEntry): void {}

  /**
   * What followed `key` (a wire id or a position), at most `pageSize` entries that have an id
   * or are gaps, oldest first, with `more` when the page is full; `undefined` when `key` is
   * unknown, trimmed, or older than `maxAgeMs` with entries after it. One script run, which
   * reads the stream from that position on only, and up to the newest position this instance
   * has delivered (so the replay and the live events meet exactly); for a position this
   * instance has not delivered yet (the client was on one further ahead) nothing is replayed:
   * the hub skips the live events up to it.
   * @throws {RedisUnavailableError} (rejects) when Redis is not connected or the read fails.
   */
  async since(key: string): Promise<ReplaySlice | undefined> {
    const reply = await this.#read(key);
    if (!Array.isArray(reply)) return undefined;
    // The client was on an instance further ahead: nothing to replay here; the hub skips the
    // live events up to its position as this instance delivers them.
    if (reply[1] === -1) return { position: reply[0] as string, entries: [] };
    const [position, more, ...rows] = reply as [string, number, ...string[]];
    const entries: HistoryEntry[] = [];
    for (let i = 0; i + 2 < rows.length; i += 3) {
      const entry = decodeEntry(rows[i] as string, rows[i + 1] as string, rows[i + 2] as string);
      const kept = entry === undefined ? undefined : toHistoryEntry(entry);
      if (kept !== undefined) entries.push(kept);
    }
    return more === 1 ? { position, entries, more: true } : { position, entries };
  }

  /** One run of the since script, up to what this instance has delivered. */
  async #read(key: string): Promise<unknown> {
    const end = this.#link.head();
    if (!this.#link.isOpen() || this.client.status !== "ready" || end === undefined) {
      throw new RedisUnavailableError("not connected; cannot read the history");
    }
    const { pageSize, maxAgeMs } = this;
    try {
      return await this.#link.scripts.since(key, isStreamId(key), pageSize, maxAgeMs, end);
    } catch (error) {
      throw new RedisUnavailableError("the history read failed", { cause: error });
    }
  }

  /** Does nothing: the backplane owns the connection. */
  close(): void {}
}
