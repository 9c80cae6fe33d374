import type { Backplane, BackplaneReceiver, Envelope } from "./backplane.js";
import { ClientsView } from "./clients-view.js";
import {
  type CloseReason,
  Connection,
  type ConnectionOwner,
  type SlowClientPolicy,
} from "./connection.js";
import { SeError, SeOptionError, SseFormatError } from "./errors.js";
import { createIdGenerator } from "./event-ids.js";
import type { EventSink } from "./event-sink.js";
import { flattenString } from "./flatten-string.js";
import { FlushScheduler } from "./flush-scheduler.js";
import {
  checkId,
  type EventMessage,
  formatEvent,
  formatFrame,
  jsonSerializer,
  type Serializer,
} from "./format-event.js";
import { createCounters, type HubCounters, type HubStats } from "./hub-stats.js";
import {
  type HistoryEntry,
  MemoryReplayHistory,
  type MemoryReplayHistoryOptions,
  type ReplayHistory,
} from "./replay-history.js";
import { type Target, targetMatches } from "./target.js";

/** What to do when a client reconnects with a `Last-Event-ID` the history no longer holds. */
export type StaleReplayPolicy = "reset" | "ignore" | ((connection: Connection) => void);

/** Options of an {@link EventHub}. Every one has a default. */
export interface EventHubOptions {
  /** Give every event a hub-wide, increasing id when the caller gives none. @default true */
  autoGenerateId?: boolean;
  /** Turns non-string `data` into text. @default JSON.stringify */
  serializer?: Serializer;
  /** Replay history: limits for the in-memory one, your own store, or `false` to keep none. @default in-memory, 1000 events / 1 MiB / 5 min */
  history?: ReplayHistory | MemoryReplayHistoryOptions | false;
  /** Behaviour for a `Last-Event-ID` that is too old or unknown. @default "reset" */
  onStaleLastEventId?: StaleReplayPolicy;
  /** Event type sent by the `"reset"` policy; the client should reload its state. @default "se-reset" */
  resetEvent?: string;
  /** `retry` (ms) advertised to each client as it connects, or `false`. @default 3000 */
  retry?: number | false;
  /** Interval of comment heartbeats on idle streams, in ms, or `false`. One shared timer. @default 20000 */
  heartbeatMs?: number | false;
  /** Bytes queued for a slow client before `slowClientPolicy` applies. @default 1 MiB */
  maxQueueBytes?: number;
  /** `"disconnect"` the slow client (it reconnects and replays) or `"drop-oldest"` queued events. @default "disconnect" */
  slowClientPolicy?: SlowClientPolicy;
  /** Carries sends to connections held by other instances (e.g. `@se/redis`). @default in-process only */
  backplane?: Backplane;
  /** Makes seids for connections opened without one. @default crypto.randomUUID */
  seidGenerator?: () => string;
}

/** Options for {@link EventHub.connect}. */
export interface ConnectOptions {
  /** The client's seid; several connections may share one. @default a random UUID */
  seid?: string;
  /** The `Last-Event-ID` the client sent; events it missed are replayed. */
  lastEventId?: string | null;
  /** Topics to join from the start (so replay includes them). */
  topics?: Iterable<string>;
}

/** Options for {@link EventHub.close}. */
export interface HubCloseOptions {
  /** A last event sent to every client before its stream ends. */
  event?: EventMessage;
}

/** What a send did. */
export interface Delivery {
  /** The event's id, given or generated. */
  readonly id: string | undefined;
  /** Connections on this instance that got it. */
  readonly local: number;
  /** Whether it was handed to the backplane for the other instances. */
  readonly published: boolean;
}

/** Events a hub emits. */
export interface HubEvents {
  connect: (connection: Connection) => void;
  disconnect: (connection: Connection, reason: CloseReason) => void;
  error: (error: unknown) => void;
}

const HEARTBEAT_FRAME = ":\n\n";
const EMPTY_IDS: ReadonlySet<string> = new Set();

/**
 * The registry of open event streams: seid → connections, topics, broadcast, replay,
 * heartbeats. Create one per app; adapters (Fastify, `node:http`, Web streams) connect sinks to it.
 *
 * @example
 * const hub = new EventHub();
 * const connection = hub.connect(sink, { seid: "alice" });
 * hub.send("alice", { event: "greeting", data: "hi" });
 * hub.broadcast({ data: { online: hub.clients.size } });
 */
export class EventHub {
  /** Unique per hub; tells this instance's messages apart on a backplane. */
  readonly instanceId: string;
  readonly autoGenerateId: boolean;
  readonly serializer: Serializer;
  readonly history: ReplayHistory | undefined;
  /** @internal */
  readonly flusher = new FlushScheduler();
  /** @internal */
  readonly counters: HubCounters = createCounters();
  readonly maxQueueBytes: number;
  readonly slowClientPolicy: SlowClientPolicy;
  readonly #retryFrame: string | undefined;
  readonly #heartbeatMs: number | false;
  readonly #staleReplay: StaleReplayPolicy;
  readonly #resetEvent: string;
  readonly #backplane: Backplane | undefined;
  readonly #nextId: () => string;
  readonly #seidGenerator: () => string;
  readonly #connections = new Set<Connection>();
  readonly #bySeid = new Map<string, Set<Connection>>();
  readonly #byTopic = new Map<string, Set<Connection>>();
  readonly #listeners: { [K in keyof HubEvents]: Set<HubEvents[K]> } = {
    connect: new Set(),
    disconnect: new Set(),
    error: new Set(),
  };
  #serial = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #started: Promise<void> | undefined;
  readonly #owner: ConnectionOwner;
  /** Live, read-only view of seid → open connections on this instance. */
  readonly clients: ClientsView;

  constructor(options: EventHubOptions = {}) {
    this.instanceId = globalThis.crypto.randomUUID();
    this.autoGenerateId = options.autoGenerateId ?? true;
    this.serializer = options.serializer ?? jsonSerializer;
    this.history = createHistory(options.history);
    this.maxQueueBytes = positiveOption("maxQueueBytes", options.maxQueueBytes, 1024 * 1024);
    this.slowClientPolicy = options.slowClientPolicy ?? "disconnect";
    if (this.slowClientPolicy !== "disconnect" && this.slowClientPolicy !== "drop-oldest") {
      throw new SeOptionError("slowClientPolicy", 'must be "disconnect" or "drop-oldest"');
    }
    const retry = options.retry ?? 3000;
    this.#retryFrame =
      retry === false ? undefined : asOption("retry", () => formatEvent({ retry }));
    const heartbeat = options.heartbeatMs ?? 20_000;
    this.#heartbeatMs = heartbeat === false ? false : positiveOption("heartbeatMs", heartbeat, 0);
    this.#staleReplay = options.onStaleLastEventId ?? "reset";
    this.#resetEvent = options.resetEvent ?? "se-reset";
    asOption("resetEvent", () => formatEvent({ event: this.#resetEvent }));
    this.#backplane = options.backplane;
    this.#nextId = options.backplane?.nextId?.bind(options.backplane) ?? createIdGenerator();
    this.#seidGenerator = options.seidGenerator ?? (() => globalThis.crypto.randomUUID());
    this.clients = new ClientsView(this.#bySeid);
    this.#owner = {
      flusher: this.flusher,
      counters: this.counters,
      maxQueueBytes: this.maxQueueBytes,
      slowClientPolicy: this.slowClientPolicy,
      sendToConnection: (connection, message) =>
        this.#dispatch({ kind: "connection", serial: connection.serial }, message, [connection]).id,
      subscribe: (connection, topic) => {
        checkName("topic", topic);
        addTo(this.#byTopic, topic, connection);
      },
      unsubscribe: (connection, topic) => removeFrom(this.#byTopic, topic, connection),
      detach: (connection, reason) => this.#detach(connection, reason),
    };
    if (this.#backplane) {
      const receiver: BackplaneReceiver = {
        instanceId: this.instanceId,
        receive: (envelope) => this.#receive(envelope),
        reportError: (error) => this.reportError(error),
        resync: () => this.resync(),
      };
      const started = this.#backplane.start(receiver);
      if (started) this.#started = started.catch((error) => this.reportError(error));
    }
  }

  /** Resolves once the backplane (if any) is connected. Sends work before; they are local until then. */
  ready(): Promise<void> {
    return this.#started ?? Promise.resolve();
  }

  /** Open connections on this instance. */
  get size(): number {
    return this.#connections.size;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Registers a new stream. Advertises `retry`, replays what the client missed since
   * `lastEventId`, and removes the connection by itself when the sink reports it closed.
   * @throws {SeOptionError} for an empty or non-string seid or topic.
   */
  connect(sink: EventSink, options: ConnectOptions = {}): Connection {
    if (this.#closed) throw new SeError("SE_ERR_HUB_CLOSED", "Cannot connect: the hub is closed.");
    const seid = options.seid ?? this.#seidGenerator();
    checkName("seid", seid);
    // Kept as long as the connection: store it flat, not as the rope a generator may build.
    flattenString(seid);
    const topics = options.topics === undefined ? undefined : [...options.topics];
    if (topics) for (const topic of topics) checkName("topic", topic);
    const lastEventId = options.lastEventId ?? undefined;
    const connection = new Connection(this.#owner, sink, ++this.#serial, seid, lastEventId);
    if (connection.closed) return connection;
    this.#connections.add(connection);
    addTo(this.#bySeid, seid, connection);
    if (topics) for (const topic of topics) connection.subscribe(topic);
    if (this.#retryFrame !== undefined) connection.write(this.#retryFrame);
    if (lastEventId !== undefined && lastEventId !== "" && this.history) {
      this.#replay(connection, lastEventId, this.history);
    }
    if (this.#heartbeatMs !== false && this.#heartbeat === undefined) this.#startHeartbeat();
    this.#emit("connect", connection);
    return connection;
  }

  /** Open connections of one seid on this instance. */
  connectionsOf(seid: string): ReadonlySet<Connection> {
    return this.#bySeid.get(seid) ?? EMPTY_CONNECTIONS;
  }

  /**
   * Sends to every connection of `seid`, on every instance.
   * @throws {SseFormatError} when the message is invalid; nothing is sent to anyone.
   */
  send(seid: string, message: EventMessage): Delivery {
    checkName("seid", seid);
    return this.#dispatch({ kind: "seid", seid }, message, this.#bySeid.get(seid));
  }

  /**
   * Sends to every connection (or, with `topic`, every subscriber of it), on every instance.
   * The event is formatted once; every client gets the same bytes.
   * @throws {SseFormatError} when the message is invalid; nothing is sent to anyone.
   */
  broadcast(message: EventMessage, options: { topic?: string } = {}): Delivery {
    const topic = options.topic;
    if (topic === undefined) return this.#dispatch({ kind: "all" }, message, this.#connections);
    checkName("topic", topic);
    return this.#dispatch({ kind: "topic", topic }, message, this.#byTopic.get(topic));
  }

  /** A snapshot of the counters. */
  stats(): HubStats {
    return {
      ...this.counters,
      connections: this.#connections.size,
      clients: this.#bySeid.size,
      topics: this.#byTopic.size,
    };
  }

  /** Listens to `connect`, `disconnect` or `error`. Returns a function that stops listening. */
  on<K extends keyof HubEvents>(type: K, listener: HubEvents[K]): () => void {
    this.#listeners[type].add(listener);
    return () => {
      this.#listeners[type].delete(listener);
    };
  }

  /** Reports an error to `error` listeners (or the console when there are none). @internal */
  reportError(error: unknown): void {
    if (this.#listeners.error.size === 0) {
      console.error("[se]", error);
      return;
    }
    for (const listener of this.#listeners.error) listener(error);
  }

  /**
   * Ends every local stream (after what is queued, without a last event), so each client
   * reconnects with its `Last-Event-ID` after the advertised `retry` and replays what it
   * missed from the history (or is told to reset). Called by a backplane that may have missed
   * events from other instances (its subscription was down). The hub stays open: new
   * connections are accepted at once. Each ended stream counts in `stats().resyncs` and emits
   * `disconnect` with reason `"resync"`. Does nothing once the hub is closed.
   */
  resync(): void {
    if (this.#closed) return;
    for (const connection of [...this.#connections]) {
      if (connection.closed) continue;
      this.counters.resyncs++;
      connection.closeForHub(undefined, "resync");
    }
  }

  /**
   * Ends every stream (after an optional last event), stops the heartbeat and closes the
   * backplane and history. Idempotent.
   */
  async close(options: HubCloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    const finalFrame =
      options.event === undefined ? undefined : formatEvent(options.event, this.serializer);
    this.#closed = true;
    this.#stopHeartbeat();
    for (const connection of [...this.#connections]) connection.closeForHub(finalFrame);
    await this.#backplane?.close();
    await this.history?.close?.();
  }

  #dispatch(
    target: Target,
    message: EventMessage,
    connections: Iterable<Connection> | undefined,
  ): Delivery {
    if (this.#closed) throw new SeError("SE_ERR_HUB_CLOSED", "Cannot send: the hub is closed.");
    if (typeof message !== "object" || message === null) {
      throw new SseFormatError(
        "message",
        `must be an object, got ${message === null ? "null" : typeof message}`,
      );
    }
    const given = message.id;
    const id =
      given !== undefined ? checkId(given) : this.autoGenerateId ? this.#nextId() : undefined;
    const frame = formatFrame(message, id, this.serializer);
    if (id !== undefined && this.history) {
      this.history.append({ id, target, frame, time: Date.now() });
    }
    const local = connections ? this.#deliver(connections, frame, id) : 0;
    let published = false;
    if (this.#backplane && target.kind !== "connection") {
      const envelope: Envelope =
        id === undefined
          ? { origin: this.instanceId, target, frame }
          : { origin: this.instanceId, target, frame, id };
      this.#backplane.publish(envelope);
      published = true;
    }
    return { id, local, published };
  }

  #deliver(connections: Iterable<Connection>, frame: string, id: string | undefined): number {
    let count = 0;
    for (const connection of connections) {
      connection.write(frame, id);
      count++;
    }
    this.counters.eventsSent += count;
    return count;
  }

  #receive(envelope: Envelope): void {
    if (this.#closed || envelope.origin === this.instanceId) return;
    const { target, frame, id } = envelope;
    if (id !== undefined && this.history && !this.history.shared) {
      this.history.append({ id, target, frame, time: Date.now() });
    }
    const connections =
      target.kind === "all"
        ? this.#connections
        : target.kind === "seid"
          ? this.#bySeid.get(target.seid)
          : target.kind === "topic"
            ? this.#byTopic.get(target.topic)
            : undefined;
    if (connections) this.#deliver(connections, frame, id);
  }

  #replay(connection: Connection, lastEventId: string, history: ReplayHistory): void {
    let result: ReturnType<ReplayHistory["since"]>;
    try {
      result = history.since(lastEventId);
    } catch (error) {
      this.reportError(error);
      return;
    }
    if (!isPromise(result)) {
      this.#writeReplay(connection, lastEventId, result);
      return;
    }
    connection.holdLive();
    result.then(
      (entries) =>
        connection.releaseHeld(() => this.#writeReplay(connection, lastEventId, entries)),
      (error) => {
        this.reportError(error);
        connection.releaseHeld(() => EMPTY_IDS);
      },
    );
  }

  #writeReplay(
    connection: Connection,
    lastEventId: string,
    entries: readonly HistoryEntry[] | undefined,
  ): ReadonlySet<string> {
    if (connection.closed) return EMPTY_IDS;
    if (entries === undefined) {
      this.#onStale(connection, lastEventId);
      return EMPTY_IDS;
    }
    const replayed = new Set<string>();
    for (const entry of entries) {
      if (!targetMatches(entry.target, connection.seid, connection.topics)) continue;
      connection.write(entry.frame);
      replayed.add(entry.id);
    }
    this.counters.replayedEvents += replayed.size;
    return replayed;
  }

  #onStale(connection: Connection, lastEventId: string): void {
    const policy = this.#staleReplay;
    if (policy === "ignore") return;
    if (typeof policy === "function") {
      policy(connection);
      return;
    }
    this.counters.resets++;
    connection.send({
      event: this.#resetEvent,
      data: { reason: "history-gap", lastEventId },
    });
  }

  #detach(connection: Connection, reason: CloseReason): void {
    if (!this.#connections.delete(connection)) return;
    removeFrom(this.#bySeid, connection.seid, connection);
    if (this.#connections.size === 0) this.#stopHeartbeat();
    this.#emit("disconnect", connection, reason);
  }

  #startHeartbeat(): void {
    const timer = setInterval(() => {
      for (const connection of this.#connections) {
        connection.heartbeat(HEARTBEAT_FRAME);
      }
    }, this.#heartbeatMs as number);
    (timer as { unref?: () => void }).unref?.();
    this.#heartbeat = timer;
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #emit<K extends keyof HubEvents>(type: K, ...args: Parameters<HubEvents[K]>): void {
    for (const listener of this.#listeners[type]) {
      try {
        (listener as (...a: Parameters<HubEvents[K]>) => void)(...args);
      } catch (error) {
        if (type !== "error") this.reportError(error);
      }
    }
  }
}

const EMPTY_CONNECTIONS: ReadonlySet<Connection> = new Set();

function createHistory(
  option: ReplayHistory | MemoryReplayHistoryOptions | false | undefined,
): ReplayHistory | undefined {
  if (option === false) return undefined;
  if (option && typeof (option as ReplayHistory).since === "function")
    return option as ReplayHistory;
  return new MemoryReplayHistory(option as MemoryReplayHistoryOptions | undefined);
}

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new SeOptionError(name, `must be a positive number, got ${String(value)}`);
  }
  return value;
}

function asOption<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!SseFormatError.isInstance(error)) throw error;
    throw new SeOptionError(name, error.rule, { cause: error });
  }
}

function checkName(field: string, value: unknown): asserts value is string {
  if (typeof value !== "string" || value === "") {
    const got = typeof value === "string" ? '""' : value === null ? "null" : typeof value;
    throw new SeOptionError(field, `must be a non-empty string, got ${got}`);
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === "function";
}

function addTo<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(connection);
}

function removeFrom<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = map.get(key);
  if (set?.delete(connection) && set.size === 0) map.delete(key);
}
