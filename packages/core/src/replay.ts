import type { Connection } from "./connection.js";
import { SeError } from "./errors.js";
import type { HubCounters } from "./hub-stats.js";
import { comparePositions, isPosition, positionOfConnectionEventId } from "./position.js";
import type { ReplayHistory, ReplaySlice } from "./replay-history.js";
import { targetMatches } from "./target.js";

/** Why a client is told to reset: its id is unknown or too old, the history failed, or events were lost in an outage. */
export type ResetReason = "history-gap" | "history-unavailable" | "outage";

/** What a replay needs from its hub. @internal */
export interface ReplayContext {
  readonly history: ReplayHistory;
  readonly timeoutMs: number;
  readonly counters: HubCounters;
  reportError(error: unknown): void;
  /** Applies the stale policy (by default: sends the reset event). */
  reset(connection: Connection, reason: ResetReason): void;
  /** A replay finished after writing `events`. */
  replayed(connection: Connection, events: number): void;
}

/** Refetches after the held live events overflowed, at most this many times in a row. */
const MAX_ROUNDS = 50;

/**
 * Replays to `connection` what it missed since its `Last-Event-ID`, then the live events held
 * meanwhile. The one place that decides what is replayed, in which order, with what backpressure:
 *
 * 1. The id is resolved: a per-connection id (`"<position>~<n>"`) stands for its position.
 * 2. `history.since` (sync or async, with `timeoutMs`) gives the entries after it; an unknown id,
 *    or a history that throws, rejects or hangs, gets the reset (the stale policy) instead.
 * 3. Entries addressed to the connection (its seid, its topics now, every broadcast) are written
 *    oldest first, waiting for the client to drain whenever its sink is full, so a large replay
 *    reaches a reader that keeps up whatever `maxQueueBytes` is. A gap entry gets the reset.
 * 4. Meanwhile live shared events are held (bounded by `maxQueueBytes`; past it they are let go
 *    and read again from the history). At the end, those after the last replayed position are
 *    written: each event once, in the shared order.
 * @internal
 */
export function replay(connection: Connection, ctx: ReplayContext): void {
  const lastEventId = connection.lastEventId as string;
  fetchSlice(connection, ctx, positionOfConnectionEventId(lastEventId) ?? lastEventId, 0);
}

function fetchSlice(connection: Connection, ctx: ReplayContext, key: string, round: number): void {
  if (connection.closed) return;
  let result: ReturnType<ReplayHistory["since"]>;
  try {
    result = ctx.history.since(key);
  } catch (error) {
    ctx.reportError(error);
    stale(connection, ctx, "history-unavailable");
    return;
  }
  if (!isPromise(result)) {
    writeSlice(connection, ctx, result, 0, round);
    return;
  }
  withTimeout(result, ctx.timeoutMs).then(
    (slice) => writeSlice(connection, ctx, slice, 0, round),
    (error: unknown) => {
      ctx.reportError(error);
      stale(connection, ctx, "history-unavailable");
    },
  );
}

function writeSlice(
  connection: Connection,
  ctx: ReplayContext,
  slice: ReplaySlice | undefined,
  from: number,
  round: number,
): void {
  const held = connection.held;
  if (connection.closed || held === undefined) return;
  if (slice === undefined) {
    stale(connection, ctx, "history-gap");
    return;
  }
  if (from === 0) connection.cursor = slice.position;
  const entries = slice.entries;
  for (let i = from; i < entries.length; i++) {
    if (connection.blocked) {
      void connection.drained().then(() => writeSlice(connection, ctx, slice, i, round));
      return;
    }
    if (connection.closed) return;
    const entry = entries[i] as (typeof entries)[number];
    if (targetMatches(entry.target, connection.seid, connection.topics)) {
      if (entry.gap === true) ctx.reset(connection, "outage");
      else {
        connection.write(entry.frame);
        ctx.counters.replayedEvents++;
        held.replayed++;
      }
    }
    connection.cursor = entry.position;
  }
  if (connection.closed) return;
  if (held.overflowed) {
    held.overflowed = false;
    if (round >= MAX_ROUNDS) stale(connection, ctx, "history-gap");
    else fetchSlice(connection, ctx, connection.cursor as string, round + 1);
  } else if (slice.more === true) {
    fetchSlice(connection, ctx, connection.cursor as string, round);
  } else {
    ctx.replayed(connection, held.replayed);
    connection.releaseHeld();
  }
}

/** The replay cannot be done: the client is told to reset, then gets the live events. */
function stale(connection: Connection, ctx: ReplayContext, reason: ResetReason): void {
  const held = connection.held;
  if (connection.closed || held === undefined) return;
  // The stream goes on from where this hub stood when the client connected, or from the client's
  // own position when the history could not be read and the client may be ahead of this hub.
  connection.cursor ??= held.head;
  if (reason === "history-unavailable") {
    const id = connection.lastEventId as string;
    const own = positionOfConnectionEventId(id) ?? (isPosition(id) ? id : undefined);
    const cursor = connection.cursor;
    if (own !== undefined && (cursor === undefined || comparePositions(own, cursor) > 0)) {
      connection.cursor = own;
    }
  }
  ctx.reset(connection, reason);
  if (held.overflowed) {
    // Live events were let go as well: the reset covers them; the stream goes on from here.
    held.frames = [];
    held.positions = [];
  }
  connection.releaseHeld();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SeError(
            "SE_ERR_HISTORY_UNAVAILABLE",
            `The replay history did not answer within ${ms} ms (historyTimeoutMs); the client was told to reset.`,
          ),
        ),
      ms,
    );
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === "function";
}
