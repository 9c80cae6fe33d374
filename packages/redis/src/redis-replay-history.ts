import { type HistoryEntry, type ReplayHistory, SeOptionError } from "@se/core";
import type { ChainableCommander, Redis } from "ioredis";
import { isTarget } from "./envelope-codec.js";
import { OutageReporter } from "./outage-reporter.js";
import { closeClient, openClient, type RedisConnectionOptions } from "./redis-connection.js";
import { RedisUnavailableError } from "./redis-unavailable-error.js";

/** Options of a {@link RedisReplayHistory}. */
export interface RedisReplayHistoryOptions extends RedisConnectionOptions {
  /** Prefix of the Redis key (`<prefix>history`), so several apps can share a Redis. @default "se:" */
  prefix?: string;
  /** Events kept (the stream is trimmed with `MAXLEN ~`, so Redis may keep a few more). @default 1000 */
  maxEvents?: number;
  /** A `Last-Event-ID` older than this, with events after it, is treated as too far behind. @default 300_000 (5 minutes) */
  maxAgeMs?: number;
  /** Appends waiting for Redis before further ones are dropped (and the history marked as having a gap). @default 10_000 */
  maxPendingCommands?: number;
  /** How long `since` waits for Redis before it rejects. @default 5000 */
  timeoutMs?: number;
  /** Where failures go, once per outage. A history made by `RedisBackplane.history()` reports through the hub instead. @default console.error */
  onError?: (error: unknown) => void;
}

const PAGE = 200;
const GAP_FIELD = "gap";

/**
 * A replay history kept in a Redis Stream (`<prefix>history`), shared by every instance,
 * so a client that reconnects to any instance with `Last-Event-ID` gets what it missed.
 *
 * Writes never throw and never queue while Redis is away: an event that cannot be stored
 * is dropped, and the stream gets a gap marker as soon as Redis is back. A client whose
 * `Last-Event-ID` precedes a gap is told to reset (the hub's `onStaleLastEventId`) instead of
 * silently missing events.
 *
 * @example
 * const hub = new EventHub({ history: new RedisReplayHistory({ url: "redis://127.0.0.1:6379" }) });
 */
export class RedisReplayHistory implements ReplayHistory {
  readonly shared = true;
  /** The Redis key of the stream. */
  readonly key: string;
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  readonly maxPendingCommands: number;
  readonly timeoutMs: number;
  /** The connection in use (opened by the history unless `client` was given). */
  readonly client: Redis;
  readonly #ownsClient: boolean;
  readonly #ownsReporter: boolean;
  /** Made by a backplane, which writes each entry in the same transaction as its publish. */
  readonly #linked: boolean;
  readonly #reporter: OutageReporter;
  #pending = 0;
  #lost = false;
  #everReady: boolean;
  #closed = false;

  /**
   * @throws {SeOptionError} when a limit is not a positive number.
   * @param reporter Shared with a backplane. @internal
   */
  constructor(options: RedisReplayHistoryOptions = {}, reporter?: OutageReporter) {
    this.key = `${options.prefix ?? "se:"}history`;
    this.maxEvents = positive("maxEvents", options.maxEvents, 1000);
    this.maxAgeMs = positive("maxAgeMs", options.maxAgeMs, 300_000);
    this.maxPendingCommands = positive("maxPendingCommands", options.maxPendingCommands, 10_000);
    this.timeoutMs = positive("timeoutMs", options.timeoutMs, 5000);
    this.#ownsClient = options.client === undefined;
    this.client = options.client ?? openClient(options);
    this.#everReady = this.client.status === "ready";
    this.#ownsReporter = reporter === undefined;
    this.#linked = reporter !== undefined;
    this.#reporter =
      reporter ?? new OutageReporter(options.onError ?? ((error) => console.error("[se]", error)));
    this.client.on("ready", this.#onReady);
    if (this.#ownsReporter) {
      this.client.on("error", this.#onError);
      this.client.on("close", this.#onClose);
    }
  }

  /** Resolves once the connection is ready (history writes before that are not kept). */
  ready(): Promise<void> {
    if (this.client.status === "ready") return Promise.resolve();
    return new Promise((resolve) => this.client.once("ready", () => resolve()));
  }

  /**
   * Stores an event. Never throws; while Redis is away the event is dropped and a gap recorded.
   * A history made by `RedisBackplane.history()` leaves this to the backplane's publish.
   */
  append(entry: HistoryEntry): void {
    if (this.#closed || this.#linked || entry.target.kind === "connection") return;
    if (this.client.status !== "ready") {
      // Before the first connection this is start-up, not an outage: nothing to report.
      this.#lose("not connected; events are not kept for replay", undefined, this.#everReady);
      return;
    }
    if (this.#pending >= this.maxPendingCommands) {
      this.#lose(`${this.#pending} history writes are waiting for Redis`);
      return;
    }
    if (this.#lost) this.#markGap();
    this.#xadd(entryFields(entry));
  }

  /** Queues the entry (after a gap marker when one is due) on a backplane's transaction. @internal */
  addTo(transaction: ChainableCommander, entry: HistoryEntry): void {
    if (this.#closed) return;
    if (this.#lost) {
      this.#lost = false;
      transaction.xadd(this.key, "MAXLEN", "~", this.maxEvents, "*", GAP_FIELD, String(entry.time));
    }
    transaction.xadd(this.key, "MAXLEN", "~", this.maxEvents, "*", ...entryFields(entry));
  }

  /** Records that events were not stored: the next write starts with a gap marker. @internal */
  lose(): void {
    this.#lost = true;
  }

  /**
   * Events stored after `lastEventId`, oldest first; `undefined` when that id is not in the
   * stream, is older than `maxAgeMs` with events after it, or a gap follows it.
   * @throws {RedisUnavailableError} (rejects) when Redis is not connected or does not answer within `timeoutMs`.
   */
  since(lastEventId: string): Promise<readonly HistoryEntry[] | undefined> {
    if (this.#closed || this.client.status !== "ready") {
      return Promise.reject(new RedisUnavailableError("not connected; cannot read the history"));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailableError(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    return Promise.race([this.#scan(lastEventId), timeout]).finally(() => clearTimeout(timer));
  }

  /** Stops writing; closes the connection if the history opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.client.off("ready", this.#onReady);
    if (this.#ownsClient) await closeClient(this.client);
    this.client.off("error", this.#onError);
    this.client.off("close", this.#onClose);
  }

  async #scan(lastEventId: string): Promise<HistoryEntry[] | undefined> {
    const newer: HistoryEntry[] = [];
    const pages = Math.ceil(this.maxEvents / PAGE) + 10;
    let end = "+";
    for (let page = 0; page < pages; page++) {
      const rows = await this.client.xrevrange(this.key, end, "-", "COUNT", PAGE);
      for (const [, fields] of rows) {
        if (fields[0] === GAP_FIELD) return undefined;
        const entry = decodeEntry(fields);
        if (entry === undefined) continue;
        if (entry.id !== lastEventId) {
          newer.push(entry);
          continue;
        }
        if (newer.length > 0 && entry.time < Date.now() - this.maxAgeMs) return undefined;
        return newer.reverse();
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < PAGE) return undefined;
      end = `(${last[0]}`;
    }
    return undefined;
  }

  #xadd(fields: string[]): void {
    this.#pending++;
    this.client.xadd(this.key, "MAXLEN", "~", this.maxEvents, "*", ...fields).then(
      () => {
        this.#pending--;
        // A stall (too many writes waiting) ends without a reconnect: Redis answered.
        if (this.#ownsReporter && this.client.status === "ready") this.#reporter.recover();
      },
      (error: unknown) => {
        this.#pending--;
        this.#lose("a history write failed; events are not kept for replay", error);
      },
    );
  }

  #markGap(): void {
    this.#lost = false;
    this.#xadd([GAP_FIELD, String(Date.now())]);
  }

  #lose(what: string, cause?: unknown, report = true): void {
    this.#lost = true;
    if (report) this.#reporter.fail(what, cause);
  }

  readonly #onReady = (): void => {
    this.#everReady = true;
    if (this.#ownsReporter) this.#reporter.recover();
    if (this.#lost && !this.#closed) this.#markGap();
  };

  readonly #onError = (error: unknown): void => {
    if (!this.#closed) this.#reporter.fail("connection error", error);
  };

  readonly #onClose = (): void => {
    if (!this.#closed) this.#reporter.fail("connection lost");
  };
}

function entryFields(entry: HistoryEntry): string[] {
  const { id, target, frame, time } = entry;
  return ["i", id, "t", JSON.stringify(target), "f", frame, "m", String(time)];
}

function decodeEntry(fields: string[]): HistoryEntry | undefined {
  const [i, id, t, target, f, frame, m, time] = fields;
  if (i !== "i" || t !== "t" || f !== "f" || m !== "m") return undefined;
  if (id === undefined || target === undefined || frame === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(target);
    if (!isTarget(parsed)) return undefined;
    return { id, target: parsed, frame, time: Number(time) };
  } catch {
    return undefined;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new SeOptionError(name, `must be a positive number, got ${String(value)}`);
  }
  return value;
}
