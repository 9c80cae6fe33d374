import { ConnectionClosedError } from "./errors.js";
import type { EventSink } from "./event-sink.js";
import type { FlushScheduler } from "./flush-scheduler.js";
import type { EventMessage } from "./format-event.js";
import type { HubCounters } from "./hub-stats.js";
import { comparePositions } from "./position.js";
import { SizedQueue } from "./sized-queue.js";
import { utf8Length } from "./utf8-length.js";

/** What happens to a client that holds more than `maxQueueBytes` for `slowClientTimeoutMs`. */
export type SlowClientPolicy = "disconnect" | "drop-oldest";

/**
 * Why a connection ended: `close()` was called; the client went away; `slowClientPolicy:
 * "disconnect"` cut it; `hub.close()`; `resync`: the hub ended the stream for its client to
 * reconnect and replay; `error`: its sink threw (the error went to the hub's `error` event);
 * `expired`: its lifetime (`maxStreamMs`, `expiresAt`) was reached.
 */
export type CloseReason =
  | "ended"
  | "client-gone"
  | "slow-client"
  | "hub-closed"
  | "resync"
  | "error"
  | "expired"
  | "disconnected";

/** The hub's side of a connection: how it sends, counts and forgets it. @internal */
export interface ConnectionOwner {
  readonly flusher: FlushScheduler;
  readonly counters: HubCounters;
  readonly maxQueueBytes: number;
  readonly slowClientPolicy: SlowClientPolicy;
  readonly slowClientTimeoutMs: number;
  /** How long a client that does not read keeps a stream the server ended gracefully. */
  readonly graceMs: number;
  sendToConnection(connection: Connection, message: EventMessage): string | undefined;
  subscribe(connection: Connection, topic: string): void;
  unsubscribe(connection: Connection, topic: string): void;
  startReplay(connection: Connection): void;
  reportError(error: unknown): void;
  reportSlow(connection: Connection): void;
  detach(connection: Connection, reason: CloseReason): void;
}

/** Options for {@link Connection.pipe}. */
export interface PipeOptions<T> {
  /** Turns each item into a message. Default: strings and other values become `{ data: item }`. */
  map?: (item: T) => EventMessage;
}

/** Text is written at once, without waiting for the end of the task, past this many characters. */
const FLUSH_AT = 64 * 1024;
/** Held past this many times `maxQueueBytes`, a client is slow whether it drains or not. */
const HARD_LIMIT = 32;
/** Largest chunk written to a sink when draining a queue. */
const DRAIN_CHUNK = 64 * 1024;

/** Shared events that arrived while a replay runs, written after it. */
interface HeldEvents {
  frames: string[];
  positions: (string | undefined)[];
  bytes: number;
  /** More than `maxQueueBytes` arrived: they were let go and the replay reads them again. */
  overflowed: boolean;
  /** The hub's head when the connection opened: held events all come after it. */
  readonly head: string | undefined;
  /** Events the replay wrote so far. */
  replayed: number;
}

/**
 * One open event stream to one client. Created by {@link EventHub.connect}; leaves
 * the hub by itself when the client goes away.
 */
export class Connection {
  /** Server event id: the key this client is reached by. Several connections may share one. */
  readonly seid: string;
  /** The `Last-Event-ID` the client connected with, if any. */
  readonly lastEventId: string | undefined;
  /** Number unique within the hub. */
  readonly serial: number;
  /**
   * Position of the last shared event this stream has caught up with (its place in the one
   * order); per-connection event ids are made from it. @internal
   */
  cursor: string | undefined;
  /** Per-connection events sent so far. @internal */
  ownEvents = 0;
  #topics: Set<string> | undefined;
  readonly #sink: EventSink;
  readonly #owner: ConnectionOwner;
  #pending = "";
  #blocked = false;
  /** Only while the client is behind. */
  #queue: SizedQueue<string> | undefined;
  /** Bytes the sink held when it last refused more (counted in `bytesQueued`). */
  #sinkHeld = 0;
  /** Set while more than `maxQueueBytes` is held: fires the slow-client policy. */
  #slowTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the client last drained while more than `maxQueueBytes` was held for it. */
  #lastDrain = 0;
  /** The policy applied: the client stays judged slow until it drains. */
  #judgedSlow = false;
  /** Set while a replay is due or running. @internal */
  held: HeldEvents | undefined;
  #replayPending = false;
  #expiry: ReturnType<typeof setTimeout> | undefined;
  /** The cursor may be ahead of what the hub delivers (set by a replay): compare before writing. */
  #ahead = false;
  #closed = false;
  #closeReason: CloseReason | undefined;
  #active = false;
  #controller: AbortController | undefined;
  #drainWaiters: Array<() => void> | undefined;

  /** @internal Use {@link EventHub.connect}. */
  constructor(
    owner: ConnectionOwner,
    sink: EventSink,
    serial: number,
    seid: string,
    lastEventId: string | undefined,
  ) {
    this.#owner = owner;
    this.#sink = sink;
    this.serial = serial;
    this.seid = seid;
    this.lastEventId = lastEventId;
    sink.bind({ drain: () => this.#onDrain(), close: () => this.#terminate("client-gone") });
  }

  /** True once the stream has ended, for whatever reason. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the stream ended, once it has. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /** Aborts when the stream ends: pass it to producers so they stop. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#closed) this.#controller.abort(this.#closeReason);
    }
    return this.#controller.signal;
  }

  /** Topics this connection is subscribed to. */
  get topics(): ReadonlySet<string> {
    return this.#topics ?? EMPTY;
  }

  /** Bytes held for this client: waiting in its queue, and in the sink when it refused more. */
  get queuedBytes(): number {
    return (this.#queue?.bytes ?? 0) + this.#sinkHeld;
  }

  /** True while a replay of what the client missed is due or running. */
  get replaying(): boolean {
    return this.held !== undefined;
  }

  /** True while the sink refuses more bytes (the client is behind). @internal */
  get blocked(): boolean {
    return this.#blocked;
  }

  /**
   * Sends one event to this connection only (not replayable). With `autoGenerateId`, the event
   * gets an id that a reconnect can resume from, which is returned.
   * @throws {ConnectionClosedError} when the stream has ended.
   * @throws {SseFormatError} when the message is invalid; nothing is written.
   */
  send(message: EventMessage): string | undefined {
    if (this.#closed) throw new ConnectionClosedError();
    return this.#owner.sendToConnection(this, message);
  }

  /** Subscribes to a topic: the connection receives `hub.broadcast(message, { topic })`. */
  subscribe(topic: string): void {
    if (this.#closed) throw new ConnectionClosedError();
    if (this.#topics?.has(topic)) return;
    this.#owner.subscribe(this, topic);
    if (this.#topics === undefined) this.#topics = new Set();
    this.#topics.add(topic);
  }

  /** Leaves a topic. */
  unsubscribe(topic: string): void {
    if (this.#topics?.delete(topic)) this.#owner.unsubscribe(this, topic);
  }

  /**
   * Starts the replay of what the client missed, when the connection was opened with
   * `deferReplay` (so topics subscribed meanwhile are replayed too). Idempotent.
   */
  startReplay(): void {
    if (!this.#replayPending) return;
    this.#replayPending = false;
    if (!this.#closed) this.#owner.startReplay(this);
  }

  /**
   * Sends every item of an async iterable (async generator, Node readable stream, Web
   * `ReadableStream`) as an event, waiting while the client is slow. When the client goes
   * away the producer is stopped: its `return()` is called (a Node stream is destroyed).
   * Resolves when the source is done or the connection closed.
   */
  async pipe<T>(source: AsyncIterable<T>, options: PipeOptions<T> = {}): Promise<void> {
    this.startReplay();
    const map = options.map ?? ((item: T) => ({ data: item }) as EventMessage);
    const iterator = source[Symbol.asyncIterator]();
    const stop = (): void => {
      // A Node stream's iterator only acts on return() after a pending read: destroy it now.
      const destroy = (source as { destroy?: unknown }).destroy;
      if (typeof destroy === "function") destroy.call(source);
      void Promise.resolve(iterator.return?.()).catch(() => {});
    };
    if (this.#closed) return stop();
    const signal = this.signal;
    let onAbort!: () => void;
    const aborted = new Promise<"aborted">((resolve) => {
      onAbort = () => resolve("aborted");
      signal.addEventListener("abort", onAbort, { once: true });
    });
    let finished = false;
    try {
      while (!this.#closed) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === "aborted") break;
        if (next.done) {
          finished = true;
          return;
        }
        this.send(map(next.value));
        if (this.#blocked) await this.drained();
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (!finished) stop();
    }
  }

  /**
   * Ends the stream gracefully (after what is queued) and removes it from the hub. A client
   * that does not take the end within the hub's `graceMs` is torn down.
   */
  close(): void {
    if (this.#closed) return;
    this.#flushAll();
    this.#end(this.#owner.graceMs);
    this.#terminate("ended");
  }

  /**
   * Delivers a shared event at `position` (the hot path of every broadcast): held while a
   * replay runs, else written, and the cursor moves to it. @internal
   */
  deliver(frame: string, position: string | undefined): void {
    const held = this.held;
    if (held === undefined) {
      if (this.#ahead && position !== undefined && this.has(position)) return;
      this.write(frame);
      if (position !== undefined) this.cursor = position;
      return;
    }
    if (this.#closed || held.overflowed) return;
    held.frames.push(frame);
    held.positions.push(position);
    held.bytes += frame.length;
    if (held.bytes > this.#owner.maxQueueBytes) {
      // Let them go: the replay reads them from the history again (see replay.ts).
      held.overflowed = true;
      held.frames = [];
      held.positions = [];
      held.bytes = 0;
    }
  }

  /**
   * Whether the client already has what stands at `position`: after a replay it may be ahead
   * of this instance (it came from one further on). @internal
   */
  has(position: string): boolean {
    if (!this.#ahead) return false;
    if (comparePositions(position, this.cursor as string) <= 0) return true;
    this.#ahead = false;
    return false;
  }

  /**
   * Holds shared events until {@link releaseHeld}; with `deferred`, until {@link startReplay}.
   * Until the replay resolves the client's id, the cursor is unknown (per-connection events
   * then repeat the client's `Last-Event-ID`). @internal
   */
  holdForReplay(deferred: boolean): void {
    this.held ??= {
      frames: [],
      positions: [],
      bytes: 0,
      overflowed: false,
      head: this.cursor,
      replayed: 0,
    };
    this.cursor = undefined;
    this.#replayPending = deferred;
  }

  /** Ends the replay: writes the held events that come after the cursor. @internal */
  releaseHeld(): void {
    const held = this.held;
    this.held = undefined;
    if (held === undefined || this.#closed) return;
    this.cursor ??= held.head;
    this.#ahead = this.cursor !== undefined;
    for (let i = 0; i < held.frames.length; i++) {
      this.deliver(held.frames[i] as string, held.positions[i]);
    }
  }

  /** Writes a preformatted frame. @internal */
  write(frame: string): void {
    if (this.#closed) return;
    this.#active = true;
    if (this.#blocked) {
      this.#enqueue(frame);
      return;
    }
    if (this.#pending === "") this.#owner.flusher.schedule(this);
    this.#pending += frame;
    if (this.#pending.length > FLUSH_AT) this.flush();
  }

  /** Writes what this task has sent so far. Called by the hub's flush scheduler. @internal */
  flush(): void {
    const chunk = this.#pending;
    if (chunk === "") return;
    this.#pending = "";
    if (this.#closed) return;
    if (this.#blocked) this.#enqueue(chunk);
    else if (!this.#write(chunk)) this.#onRefused(chunk);
  }

  /**
   * Writes `frame` unless something was written since the last call; the heartbeat itself
   * does not count as activity, so an idle stream gets one every interval. @internal
   */
  heartbeat(frame: string): void {
    if (this.#active) this.#active = false;
    else {
      this.write(frame);
      this.#active = false;
    }
  }

  /**
   * Ends the stream for the hub (`"hub-closed"` or `"resync"`), after what is queued and an
   * optional last frame. @internal
   */
  closeForHub(
    finalFrame: string | undefined,
    reason: CloseReason = "hub-closed",
    graceMs = this.#owner.graceMs,
  ): void {
    if (this.#closed) return;
    // Mid-replay: drop the held live events, so the client's Last-Event-ID stays before the
    // range it has not got yet and its reconnect replays all of it.
    this.held = undefined;
    if (finalFrame !== undefined) this.write(finalFrame);
    this.#flushAll();
    this.#end(graceMs);
    this.#terminate(reason);
  }

  /**
   * Ends the stream (gracefully, reason `"expired"`) after `ms`: its client reconnects after the
   * advertised `retry` and replays. @internal
   */
  expireIn(ms: number): void {
    if (this.#closed) return;
    if (this.#expiry !== undefined) clearTimeout(this.#expiry);
    const timer = setTimeout(() => this.closeForHub(undefined, "expired"), Math.max(0, ms));
    (timer as { unref?: () => void }).unref?.();
    this.#expiry = timer;
  }

  /** Resolves once the sink takes bytes again (or the connection closed). @internal */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#blocked || this.#closed) return resolve();
      if (this.#drainWaiters === undefined) this.#drainWaiters = [];
      this.#drainWaiters.push(resolve);
    });
  }

  /**
   * Writes to the sink. A sink that throws ends this connection alone (reason `"error"`, the
   * error reported to the hub): the other connections of a batch still flush.
   */
  #write(chunk: string): boolean {
    if (this.#closed) return true;
    try {
      return this.#sink.write(chunk);
    } catch (error) {
      this.#fail(error);
      return true;
    }
  }

  /**
   * Ends the sink; with `graceMs`, a client still holding unread bytes then is torn down after
   * that long (one that reads takes the end at once and needs no timer).
   */
  #end(graceMs?: number): void {
    const sink = this.#sink;
    try {
      sink.end();
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (graceMs === undefined || (sink.bufferedBytes !== undefined && sink.bufferedBytes() === 0)) {
      return;
    }
    const timer = setTimeout(() => this.#destroy(), graceMs);
    (timer as { unref?: () => void }).unref?.();
  }

  #destroy(): void {
    try {
      this.#sink.destroy();
    } catch (error) {
      this.#owner.reportError(error);
    }
  }

  #fail(error: unknown): void {
    this.#owner.reportError(error);
    this.#destroy();
    this.#terminate("error");
  }

  #flushAll(): void {
    this.flush();
    if (this.#blocked && this.#queue !== undefined && this.#queue.length > 0) {
      // The client is slow but we are ending: hand what is left to the sink, which flushes it.
      this.#write(this.#queue.slice().join(""));
      this.#clearQueue();
    }
  }

  #onRefused(chunk: string): void {
    this.#blocked = true;
    const held = this.#sink.bufferedBytes?.() ?? utf8Length(chunk);
    this.#owner.counters.bytesQueued += held - this.#sinkHeld;
    this.#sinkHeld = held;
    this.#checkHeld();
  }

  #enqueue(frame: string): void {
    const size = utf8Length(frame);
    this.#queue ??= new SizedQueue<string>();
    this.#queue.push(frame, size);
    this.#owner.counters.bytesQueued += size;
    this.#checkHeld();
  }

  /**
   * More than `maxQueueBytes` held: from now on the client must keep draining, at least once
   * every `slowClientTimeoutMs`, or the policy applies; a reader that keeps up may take as long
   * as it needs for a large burst. Past `HARD_LIMIT` × `maxQueueBytes` it applies at once.
   */
  #checkHeld(): void {
    const held = this.queuedBytes;
    const max = this.#owner.maxQueueBytes;
    if (held <= max) return;
    if (this.#judgedSlow) {
      this.#dropOldest();
      return;
    }
    if (held > max * HARD_LIMIT) {
      this.#onSlow();
      return;
    }
    if (this.#slowTimer !== undefined) return;
    this.#lastDrain = Date.now();
    this.#armSlowTimer(this.#owner.slowClientTimeoutMs);
  }

  #armSlowTimer(ms: number): void {
    const timer = setTimeout(() => this.#onSlowTimer(), ms);
    (timer as { unref?: () => void }).unref?.();
    this.#slowTimer = timer;
  }

  #onSlowTimer(): void {
    this.#slowTimer = undefined;
    if (this.#closed || this.queuedBytes <= this.#owner.maxQueueBytes) return;
    const left = this.#lastDrain + this.#owner.slowClientTimeoutMs - Date.now();
    if (left > 0) this.#armSlowTimer(left);
    else this.#onSlow();
  }

  #onSlow(): void {
    if (this.#slowTimer !== undefined) clearTimeout(this.#slowTimer);
    this.#slowTimer = undefined;
    const counters = this.#owner.counters;
    this.#owner.reportSlow(this);
    if (this.#owner.slowClientPolicy === "disconnect") {
      counters.slowClientsDisconnected++;
      counters.eventsDropped += this.#queue?.length ?? 0;
      this.#destroy();
      this.#terminate("slow-client");
      return;
    }
    this.#judgedSlow = true;
    this.#dropOldest();
  }

  #dropOldest(): void {
    const queue = this.#queue;
    if (queue === undefined) return;
    const counters = this.#owner.counters;
    while (this.queuedBytes > this.#owner.maxQueueBytes && queue.length > 0) {
      const before = queue.bytes;
      queue.shift();
      counters.bytesQueued -= before - queue.bytes;
      counters.eventsDropped++;
    }
  }

  #clearQueue(): void {
    if (this.#queue !== undefined) this.#owner.counters.bytesQueued -= this.#queue.bytes;
    this.#queue = undefined;
  }

  #clearSinkHeld(): void {
    this.#owner.counters.bytesQueued -= this.#sinkHeld;
    this.#sinkHeld = 0;
  }

  #onDrain(): void {
    if (this.#closed || !this.#blocked) return;
    this.#blocked = false;
    this.#lastDrain = Date.now();
    this.#clearSinkHeld();
    // Re-read the queue after each write: a write may end the connection, which drops it.
    let queue = this.#queue;
    while (!this.#blocked && queue !== undefined && queue.length > 0) {
      let chunk = "";
      while (chunk.length < DRAIN_CHUNK && queue.length > 0) {
        const before = queue.bytes;
        chunk += queue.shift();
        this.#owner.counters.bytesQueued -= before - queue.bytes;
      }
      if (!this.#write(chunk)) this.#onRefused(chunk);
      queue = this.#queue;
    }
    if (queue !== undefined && queue.length === 0) this.#clearQueue();
    if (this.queuedBytes <= this.#owner.maxQueueBytes) {
      this.#judgedSlow = false;
      if (this.#slowTimer !== undefined) clearTimeout(this.#slowTimer);
      this.#slowTimer = undefined;
    }
    if (!this.#blocked) this.#wakeDrainWaiters();
  }

  #wakeDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    if (waiters) for (const wake of waiters) wake();
  }

  #terminate(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#pending = "";
    this.held = undefined;
    if (this.#slowTimer !== undefined) clearTimeout(this.#slowTimer);
    this.#slowTimer = undefined;
    if (this.#expiry !== undefined) clearTimeout(this.#expiry);
    this.#clearQueue();
    this.#clearSinkHeld();
    this.#wakeDrainWaiters();
    this.#controller?.abort(reason);
    if (this.#topics) for (const topic of this.#topics) this.#owner.unsubscribe(this, topic);
    this.#owner.detach(this, reason);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
