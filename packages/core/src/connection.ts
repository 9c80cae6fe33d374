import { ConnectionClosedError } from "./errors.js";
import type { EventSink } from "./event-sink.js";
import type { FlushScheduler } from "./flush-scheduler.js";
import type { EventMessage } from "./format-event.js";
import type { HubCounters } from "./hub-stats.js";
import { SizedQueue } from "./sized-queue.js";
import { utf8Length } from "./utf8-length.js";

/** What happens when a slow client's queue passes `maxQueueBytes`. */
export type SlowClientPolicy = "disconnect" | "drop-oldest";

/**
 * Why a connection ended: `close()` was called; the client went away; `slowClientPolicy:
 * "disconnect"` cut it; `hub.close()`; `resync`: the backplane may have missed events, so the
 * hub ended the stream for its client to reconnect and replay.
 */
export type CloseReason = "ended" | "client-gone" | "slow-client" | "hub-closed" | "resync";

/** The hub's side of a connection: how it sends, counts and forgets it. @internal */
export interface ConnectionOwner {
  readonly flusher: FlushScheduler;
  readonly counters: HubCounters;
  readonly maxQueueBytes: number;
  readonly slowClientPolicy: SlowClientPolicy;
  sendToConnection(connection: Connection, message: EventMessage): string | undefined;
  subscribe(connection: Connection, topic: string): void;
  unsubscribe(connection: Connection, topic: string): void;
  detach(connection: Connection, reason: CloseReason): void;
}

/** Options for {@link Connection.pipe}. */
export interface PipeOptions<T> {
  /** Turns each item into a message. Default: strings and other values become `{ data: item }`. */
  map?: (item: T) => EventMessage;
}

/** Text is written at once, without waiting for the end of the task, past this many characters. */
const FLUSH_AT = 64 * 1024;
/** Largest chunk written to a sink when draining a queue. */
const DRAIN_CHUNK = 64 * 1024;

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
  #topics: Set<string> | undefined;
  readonly #sink: EventSink;
  readonly #owner: ConnectionOwner;
  #pending = "";
  #blocked = false;
  /** Only while the client is behind. */
  #queue: SizedQueue<string> | undefined;
  #held: Array<string | undefined> | null = null;
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

  /** Bytes waiting for a slow client (0 when the client keeps up). */
  get queuedBytes(): number {
    return this.#queue?.bytes ?? 0;
  }

  /**
   * Sends one event to this connection only. With `autoGenerateId`, the event gets a
   * hub-wide id, which is returned.
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
   * Sends every item of an async iterable (async generator, Node readable stream, Web
   * `ReadableStream`) as an event, waiting while the client is slow. When the client goes
   * away the producer is stopped: its `return()` is called (a Node stream is destroyed).
   * Resolves when the source is done or the connection closed.
   */
  async pipe<T>(source: AsyncIterable<T>, options: PipeOptions<T> = {}): Promise<void> {
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
        if (this.#blocked) await this.#drained();
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (!finished) stop();
    }
  }

  /** Ends the stream gracefully (after what is queued) and removes it from the hub. */
  close(): void {
    if (this.#closed) return;
    this.#flushAll();
    this.#sink.end();
    this.#terminate("ended");
  }

  /** Writes a preformatted frame. The hot path of every send. @internal */
  write(frame: string, id?: string): void {
    if (this.#closed) return;
    if (this.#held !== null) {
      this.#held.push(frame, id);
      return;
    }
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
    else if (!this.#sink.write(chunk)) this.#blocked = true;
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

  /** Holds live events until {@link releaseHeld} (used while an async replay runs). @internal */
  holdLive(): void {
    this.#held ??= [];
  }

  /**
   * Stops holding: runs `replay` (which writes the replayed frames first), then writes the
   * held live events, skipping the ids `replay` returned. @internal
   */
  releaseHeld(replay: () => ReadonlySet<string>): void {
    const held = this.#held;
    this.#held = null;
    const skip = replay();
    if (held === null) return;
    for (let i = 0; i < held.length; i += 2) {
      const id = held[i + 1];
      if (id !== undefined && skip.has(id)) continue;
      this.write(held[i] as string, id);
    }
  }

  /**
   * Ends the stream for the hub (`"hub-closed"` or `"resync"`), after what is queued and an
   * optional last frame. @internal
   */
  closeForHub(finalFrame: string | undefined, reason: CloseReason = "hub-closed"): void {
    if (this.#closed) return;
    if (finalFrame !== undefined) this.write(finalFrame);
    this.#flushAll();
    this.#sink.end();
    this.#terminate(reason);
  }

  #flushAll(): void {
    if (this.#held !== null) this.releaseHeld(() => EMPTY);
    this.flush();
    if (this.#blocked && this.#queue !== undefined && this.#queue.length > 0) {
      // The client is slow but we are ending: hand what is left to the sink, which flushes it.
      this.#sink.write(this.#queue.slice().join(""));
      this.#clearQueue();
    }
  }

  #enqueue(frame: string): void {
    const size = utf8Length(frame);
    this.#queue ??= new SizedQueue<string>();
    this.#queue.push(frame, size);
    this.#owner.counters.bytesQueued += size;
    if (this.#queue.bytes > this.#owner.maxQueueBytes) this.#overflow(this.#queue);
  }

  #overflow(queue: SizedQueue<string>): void {
    const counters = this.#owner.counters;
    if (this.#owner.slowClientPolicy === "disconnect") {
      counters.slowClientsDisconnected++;
      counters.eventsDropped += queue.length;
      this.#sink.destroy();
      this.#terminate("slow-client");
      return;
    }
    while (queue.bytes > this.#owner.maxQueueBytes && queue.length > 0) {
      this.#shiftQueue(queue);
      counters.eventsDropped++;
    }
  }

  #shiftQueue(queue: SizedQueue<string>): string {
    const before = queue.bytes;
    const frame = queue.shift();
    this.#owner.counters.bytesQueued -= before - queue.bytes;
    return frame;
  }

  #clearQueue(): void {
    if (this.#queue === undefined) return;
    this.#owner.counters.bytesQueued -= this.#queue.bytes;
    this.#queue = undefined;
  }

  #onDrain(): void {
    if (this.#closed || !this.#blocked) return;
    this.#blocked = false;
    // Re-read the queue after each write: a write may end the connection, which drops it.
    let queue = this.#queue;
    while (!this.#blocked && queue !== undefined && queue.length > 0) {
      let chunk = "";
      while (chunk.length < DRAIN_CHUNK && queue.length > 0) {
        chunk += this.#shiftQueue(queue);
      }
      if (!this.#sink.write(chunk)) this.#blocked = true;
      queue = this.#queue;
    }
    if (queue !== undefined && queue.length === 0) this.#clearQueue();
    if (!this.#blocked) this.#wakeDrainWaiters();
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#blocked || this.#closed) return resolve();
      if (this.#drainWaiters === undefined) this.#drainWaiters = [];
      this.#drainWaiters.push(resolve);
    });
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
    this.#held = null;
    this.#clearQueue();
    this.#wakeDrainWaiters();
    this.#controller?.abort(reason);
    if (this.#topics) for (const topic of this.#topics) this.#owner.unsubscribe(this, topic);
    this.#owner.detach(this, reason);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
