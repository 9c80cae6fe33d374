import type { Backplane, BackplaneReceiver, DisconnectRequest, Envelope } from "./backplane.js";
import { ClientsView } from "./clients-view.js";
import {
  type CloseReason,
  Connection,
  type ConnectionOwner,
  type SlowClientPolicy,
} from "./connection.js";
import { publish } from "./diagnostics.js";
import { endOverWindow } from "./drain-window.js";
import {
  ConnectionLimitError,
  ReconnectRefusedError,
  SeError,
  SeOptionError,
  SseFormatError,
} from "./errors.js";
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
import { checkLastEventId, checkName } from "./limits.js";
import { connectionEventId } from "./position.js";
import { ReconnectRefusals } from "./reconnect-refusals.js";
import { type ReplayContext, type ResetReason, replay } from "./replay.js";
import {
  MemoryReplayHistory,
  type MemoryReplayHistoryOptions,
  type ReplayHistory,
} from "./replay-history.js";
import type { Target } from "./target.js";

/** What to do when a client's replay cannot be done (unknown or too old id, history failed, outage gap). */
export type StaleReplayPolicy = "reset" | "ignore" | ((connection: Connection) => void);

/** Options of an {@link EventHub}. Every one has a default. */
export interface EventHubOptions {
  /** Give every event an id when the caller gives none (shared events: their position; per-connection events: `"<position>~<n>"`). @default true */
  autoGenerateId?: boolean;
  /** Turns non-string `data` into text. @default JSON.stringify */
  serializer?: Serializer;
  /** Replay history: limits for the in-memory one, your own store, or `false` to keep none. @default in-memory, 1000 events / 1 MiB / 5 min */
  history?: ReplayHistory | MemoryReplayHistoryOptions | false;
  /** How long a replay waits for an async history before the client is told to reset. @default 5000 */
  historyTimeoutMs?: number;
  /** Behaviour when a replay cannot be done (unknown or too old id, history failed, gap). @default "reset" */
  onStaleLastEventId?: StaleReplayPolicy;
  /** Event type sent by the `"reset"` policy; the client should reload its state. @default "se-reset" */
  resetEvent?: string;
  /** `retry` (ms) advertised to each client as it connects, or `false`. @default 3000 */
  retry?: number | false;
  /**
   * Each client is advertised `retry` plus up to this share of it, at random (0.5: 3000–4500 ms),
   * so clients cut together (a restart, `close()`, `resync()`) do not reconnect together. 0 for
   * the exact `retry`. @default 0.5
   */
  retryJitter?: number;
  /**
   * `close()` and `resync()` end the streams spread at random over this many ms instead of all
   * at once (per call: their `drainMs`). @default 0
   */
  drainMs?: number;
  /**
   * How long a client that does not read may keep a stream the server ended (`close()`,
   * `resync()`, `disconnect()`, a lifetime) before its connection is torn down. @default 5000
   */
  graceMs?: number;
  /** Interval of comment heartbeats on idle streams, in ms, or `false`. One shared timer. @default 20000 */
  heartbeatMs?: number | false;
  /**
   * Bytes held for one client (queued, and in its socket) past which it must keep draining:
   * a client that drains nothing for `slowClientTimeoutMs`, or holds 32 × this, is slow.
   * @default 1 MiB
   */
  maxQueueBytes?: number;
  /**
   * How long a client holding more than `maxQueueBytes` may go without draining before
   * `slowClientPolicy` applies: a reader that keeps up may take its time over a large burst,
   * one that stopped reading is cut. @default 1000
   */
  slowClientTimeoutMs?: number;
  /** `"disconnect"` the slow client (it reconnects and replays) or `"drop-oldest"` queued events. @default "disconnect" */
  slowClientPolicy?: SlowClientPolicy;
  /** Carries sends to connections held by other instances (e.g. `@se/redis`). @default in-process only */
  backplane?: Backplane;
  /** Makes seids for connections opened without one. @default crypto.randomUUID */
  seidGenerator?: () => string;
  /**
   * Longest life of a stream, in ms, or `false`: it then ends (reason `"expired"`) and its client
   * reconnects after `retry` and replays, before a platform's limit (serverless, load balancer)
   * cuts it. Each stream ends up to 10 % earlier, at random, so they do not all reconnect at
   * once. Per connection: `ConnectOptions.maxStreamMs`. @default false
   */
  maxStreamMs?: number | false;
  /** Open connections this instance accepts; past it a connect throws `ConnectionLimitError` (503). @default no cap */
  maxConnections?: number;
  /** Open connections one seid may hold on this instance; past it a connect throws `ConnectionLimitError` (429). @default no cap */
  maxConnectionsPerSeid?: number;
}

/** Options for {@link EventHub.connect}. */
export interface ConnectOptions {
  /** The client's seid; several connections may share one. @default a random UUID */
  seid?: string;
  /** The `Last-Event-ID` the client sent; events it missed are replayed. */
  lastEventId?: string | null;
  /** Topics to join from the start (so replay includes them). */
  topics?: Iterable<string>;
  /**
   * Wait for `connection.startReplay()` before replaying (live events are held meanwhile), so
   * topics subscribed after `connect` are replayed too. Adapters start it when the route's
   * handler returns. @default false
   */
  deferReplay?: boolean;
  /** This stream's longest life in ms (overrides the hub's `maxStreamMs`), or `false` for none. */
  maxStreamMs?: number | false;
  /** When the stream must end (e.g. the token's `exp`), as ms since the epoch or a `Date`. */
  expiresAt?: number | Date;
}

/** Options for {@link EventHub.close}. */
export interface HubCloseOptions {
  /** A last event sent to every client before its stream ends. */
  event?: EventMessage;
  /**
   * How long a client that does not read may hold its stream open after it was ended; then its
   * connection is torn down, so a server's close does not wait on it. @default the hub's `graceMs` (5000)
   */
  graceMs?: number;
  /** End the streams spread at random over this many ms. @default the hub's `drainMs` (0) */
  drainMs?: number;
}

/** Options for {@link EventHub.resync}. */
export interface HubResyncOptions {
  /** End the streams spread at random over this many ms. @default the hub's `drainMs` (0) */
  drainMs?: number;
}

/** Whose streams {@link EventHub.disconnect} ends. */
export type DisconnectTarget =
  | string
  | { readonly seid: string }
  | { readonly topic: string }
  | ((connection: Connection) => boolean);

/** Options for {@link EventHub.disconnect}. */
export interface DisconnectOptions {
  /** A last event each stream gets before it ends (written without a generated id). */
  event?: EventMessage;
  /**
   * For this many ms, every instance refuses connects of the seids it ended
   * (`ReconnectRefusedError`; adapters answer `204`, which stops `EventSource` from
   * reconnecting). A seid target is refused on every instance, even one that held none of its
   * streams. @default 0 (reconnects are accepted; refuse them in your auth instead)
   */
  refuseReconnectMs?: number;
}

/** What {@link EventHub.disconnect} did. */
export interface DisconnectResult {
  /** Streams on this instance ended now (0 with an ordered backplane: they end in order, shortly). */
  readonly local: number;
  /** Whether the request was handed to the backplane, for the other instances. */
  readonly published: boolean;
}

/** What a send did. */
export interface Delivery {
  /**
   * The event's id, given or generated. With an ordered backplane (`@se/redis`) a generated id
   * is made by the backplane later, so it is `undefined` here.
   */
  readonly id: string | undefined;
  /** Connections on this instance that got it now (0 with an ordered backplane: they get it in order, shortly). */
  readonly local: number;
  /** Whether it was handed to the backplane. */
  readonly published: boolean;
}

/** Events a hub emits. */
export interface HubEvents {
  connect: (connection: Connection) => void;
  disconnect: (connection: Connection, reason: CloseReason) => void;
  error: (error: unknown) => void;
}

const HEARTBEAT_FRAME = ":\n\n";
const ALL: Target = { kind: "all" };

/**
 * The registry of open event streams (seid → connections, topics) and the dispatch of events
 * to them: send → frame once → targets → connections → sinks. Replay lives in `replay.ts`.
 * Create one per app; adapters (Fastify, `node:http`, Web streams) connect sinks to it.
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
  readonly slowClientTimeoutMs: number;
  readonly #retryFrame: string | undefined;
  readonly #heartbeatMs: number | false;
  readonly #staleReplay: StaleReplayPolicy;
  readonly #resetEvent: string;
  readonly #backplane: Backplane | undefined;
  readonly #ordered: boolean;
  readonly #nextPosition: () => string;
  readonly #seidGenerator: () => string;
  readonly #maxStreamMs: number | false;
  readonly #maxConnections: number;
  readonly #maxConnectionsPerSeid: number;
  readonly #retryMs: number;
  readonly #retryJitter: number;
  readonly #drainMs: number;
  readonly #refusals = new ReconnectRefusals();
  readonly #connections = new Set<Connection>();
  readonly #bySeid = new Map<string, Set<Connection>>();
  readonly #byTopic = new Map<string, Set<Connection>>();
  readonly #listeners: { [K in keyof HubEvents]: Set<HubEvents[K]> } = {
    connect: new Set(),
    disconnect: new Set(),
    error: new Set(),
  };
  /** Position of the newest shared event with an id: where a new connection starts. */
  #head: string | undefined;
  #serial = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** `close()` is ending the streams (its drain window): connects are answered, then ended. */
  #draining = false;
  #backplaneState: "up" | "down" | undefined;
  #started: Promise<void> | undefined;
  readonly #owner: ConnectionOwner;
  readonly #replay: ReplayContext | undefined;
  /** Live, read-only view of seid → open connections on this instance. */
  readonly clients: ClientsView;

  constructor(options: EventHubOptions = {}) {
    this.instanceId = globalThis.crypto.randomUUID();
    this.autoGenerateId = options.autoGenerateId ?? true;
    this.serializer = options.serializer ?? jsonSerializer;
    this.history = createHistory(options.history, options.backplane);
    this.maxQueueBytes = positiveOption("maxQueueBytes", options.maxQueueBytes, 1024 * 1024);
    this.slowClientTimeoutMs = positiveOption(
      "slowClientTimeoutMs",
      options.slowClientTimeoutMs,
      1000,
    );
    this.slowClientPolicy = options.slowClientPolicy ?? "disconnect";
    if (this.slowClientPolicy !== "disconnect" && this.slowClientPolicy !== "drop-oldest") {
      throw new SeOptionError("slowClientPolicy", 'must be "disconnect" or "drop-oldest"');
    }
    const retry = options.retry ?? 3000;
    this.#retryFrame =
      retry === false ? undefined : asOption("retry", () => formatEvent({ retry }));
    this.#retryJitter = nonNegativeOption("retryJitter", options.retryJitter, 0.5);
    this.#drainMs = nonNegativeOption("drainMs", options.drainMs, 0);
    const graceMs = nonNegativeOption("graceMs", options.graceMs, 5000);
    const heartbeat = options.heartbeatMs ?? 20_000;
    this.#heartbeatMs = heartbeat === false ? false : positiveOption("heartbeatMs", heartbeat, 0);
    const stale = options.onStaleLastEventId ?? "reset";
    if (stale !== "reset" && stale !== "ignore" && typeof stale !== "function") {
      throw new SeOptionError("onStaleLastEventId", 'must be "reset", "ignore" or a function');
    }
    this.#staleReplay = stale;
    this.#resetEvent = options.resetEvent ?? "se-reset";
    asOption("resetEvent", () => formatEvent({ event: this.#resetEvent }));
    const backplane = options.backplane;
    this.#backplane = backplane;
    this.#ordered = backplane?.ordered === true;
    if (this.#ordered && this.history !== undefined && !this.history.shared) {
      throw new SeOptionError(
        "history",
        "must be the backplane's shared history (or false) with an ordered backplane",
      );
    }
    this.#nextPosition = backplane?.nextId?.bind(backplane) ?? createIdGenerator();
    this.#seidGenerator = options.seidGenerator ?? (() => globalThis.crypto.randomUUID());
    this.#maxStreamMs = lifetimeOption("maxStreamMs", options.maxStreamMs);
    this.#maxConnections = capOption("maxConnections", options.maxConnections);
    this.#maxConnectionsPerSeid = capOption("maxConnectionsPerSeid", options.maxConnectionsPerSeid);
    this.#retryMs = retry === false ? 3000 : retry;
    this.clients = new ClientsView(this.#bySeid);
    const historyTimeoutMs = positiveOption("historyTimeoutMs", options.historyTimeoutMs, 5000);
    if (this.history !== undefined) {
      this.#replay = {
        history: this.history,
        timeoutMs: historyTimeoutMs,
        counters: this.counters,
        reportError: (error) => this.reportError(error),
        reset: (connection, reason) => this.#reset(connection, reason),
        replayed: (connection, events) =>
          publish("se:replay", () => ({ hub: this, connection, events })),
      };
      if (!this.history.shared) this.#appendOrigin(this.history);
    }
    this.#owner = {
      flusher: this.flusher,
      counters: this.counters,
      maxQueueBytes: this.maxQueueBytes,
      slowClientPolicy: this.slowClientPolicy,
      slowClientTimeoutMs: this.slowClientTimeoutMs,
      graceMs,
      sendToConnection: (connection, message) => this.#sendToConnection(connection, message),
      subscribe: (connection, topic) => {
        checkName("topic", topic);
        addTo(this.#byTopic, topic, connection);
      },
      unsubscribe: (connection, topic) => removeFrom(this.#byTopic, topic, connection),
      startReplay: (connection) => {
        if (this.#replay) replay(connection, this.#replay);
        else connection.releaseHeld();
      },
      reportError: (error) => this.reportError(error),
      reportSlow: (connection) =>
        publish("se:slow-client", () => ({
          hub: this,
          connection,
          policy: this.slowClientPolicy,
        })),
      detach: (connection, reason) => this.#detach(connection, reason),
    };
    if (backplane) {
      const receiver: BackplaneReceiver = {
        instanceId: this.instanceId,
        receive: (envelope) => this.#receive(envelope),
        seek: (position) => {
          this.#head = position;
        },
        reportError: (error) => this.reportError(error),
        resync: () => {
          this.resync();
        },
        state: (state, error) => {
          this.#backplaneState = state;
          publish("se:backplane", () =>
            error === undefined ? { hub: this, state } : { hub: this, state, error },
          );
        },
      };
      const started = backplane.start(receiver);
      if (started) this.#started = started.catch((error) => this.reportError(error));
    }
  }

  /**
   * Resolves once the backplane (if any) has started (connected), or once its first start failed
   * (the failure goes to the `error` event; it keeps retrying). Before then, sends to an
   * unordered backplane stay local; sends to an ordered one (`@se/redis`) cannot be ordered and
   * become a gap (matching clients are told to reset). Await it before serving.
   */
  ready(): Promise<void> {
    return this.#started ?? Promise.resolve();
  }

  /**
   * What the backplane last reported: `"up"`, `"down"` (also published on `se:backplane`), or
   * `undefined` without a backplane or before its first report. For a metrics gauge that starts
   * after the hub did.
   */
  get backplaneState(): "up" | "down" | undefined {
    return this.#backplaneState;
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
   * Checks what {@link connect} would check, without connecting: adapters call it before they
   * send the response's headers, so bad input gets a 4xx instead of a broken stream.
   * @throws {SeOptionError} for an invalid seid or topic; {@link InvalidLastEventIdError} for an invalid `lastEventId`.
   */
  checkConnect(options: ConnectOptions = {}): void {
    if (this.#closed && !this.#draining) {
      throw new SeError("SE_ERR_HUB_CLOSED", "Cannot connect: the hub is closed.");
    }
    if (options.seid !== undefined) checkName("seid", options.seid);
    if (options.topics !== undefined) for (const topic of options.topics) checkName("topic", topic);
    checkLastEventId(options.lastEventId ?? undefined);
    lifetime(options, this.#maxStreamMs);
    this.#admit(options.seid);
  }

  /**
   * Registers a new stream. Advertises `retry`, replays what the client missed since
   * `lastEventId` (see `deferReplay`), and removes the connection by itself when the sink
   * reports it closed.
   * @throws {SeOptionError} for an invalid seid or topic; {@link InvalidLastEventIdError} for an invalid `lastEventId`.
   */
  connect(sink: EventSink, options: ConnectOptions = {}): Connection {
    if (this.#closed) {
      if (this.#draining) return this.#turnAway(sink, options);
      throw new SeError("SE_ERR_HUB_CLOSED", "Cannot connect: the hub is closed.");
    }
    const seid = checkName("seid", options.seid ?? this.#seidGenerator());
    // Kept as long as the connection: store it flat, not as the rope a generator may build.
    flattenString(seid);
    const topics = options.topics === undefined ? undefined : [...options.topics];
    if (topics) for (const topic of topics) checkName("topic", topic);
    const lastEventId = checkLastEventId(options.lastEventId ?? undefined);
    const endsIn = lifetime(options, this.#maxStreamMs);
    this.#admit(seid);
    const connection = new Connection(this.#owner, sink, ++this.#serial, seid, lastEventId);
    if (connection.closed) return connection;
    connection.cursor = this.#head;
    this.#connections.add(connection);
    addTo(this.#bySeid, seid, connection);
    if (topics) for (const topic of topics) connection.subscribe(topic);
    if (this.#retryFrame !== undefined) connection.write(this.#retryFor());
    if (endsIn !== undefined) connection.expireIn(endsIn);
    if (lastEventId !== undefined && lastEventId !== "" && this.#replay) {
      connection.holdForReplay(options.deferReplay === true);
      if (options.deferReplay !== true) replay(connection, this.#replay);
    }
    if (this.#heartbeatMs !== false && this.#heartbeat === undefined) this.#startHeartbeat();
    this.#emit("connect", connection);
    publish("se:connect", () => ({ hub: this, connection }));
    return connection;
  }

  /**
   * A connect while `close()` drains: a stream that gets its `retry` and ends at once (reason
   * `"hub-closed"`), so the client tries again later (another instance, or this one restarted)
   * instead of failing for good on an error status, as an `EventSource` does.
   */
  #turnAway(sink: EventSink, options: ConnectOptions): Connection {
    const seid = checkName("seid", options.seid ?? this.#seidGenerator());
    const lastEventId = checkLastEventId(options.lastEventId ?? undefined);
    const connection = new Connection(this.#owner, sink, ++this.#serial, seid, lastEventId);
    connection.closeForHub(this.#retryFrame === undefined ? undefined : this.#retryFor());
    return connection;
  }

  /** The `retry` frame of a new connection: the hub's `retry`, plus its jitter. */
  #retryFor(): string {
    if (this.#retryJitter === 0) return this.#retryFrame as string;
    const ms = Math.round(this.#retryMs * (1 + Math.random() * this.#retryJitter));
    return `retry: ${ms}\n\n`;
  }

  /**
   * Refuses a connect past a cap, or of a seid disconnected with `refuseReconnectMs`, before
   * anything is opened (counted in `stats().refused`).
   */
  #admit(seid: string | undefined): void {
    if (seid !== undefined && this.#refusals.refuses(seid)) {
      this.counters.refused++;
      publish("se:refused", () => ({ hub: this, limit: "disconnected" }));
      throw new ReconnectRefusedError();
    }
    const instanceFull = this.#connections.size >= this.#maxConnections;
    const seidFull =
      seid !== undefined && (this.#bySeid.get(seid)?.size ?? 0) >= this.#maxConnectionsPerSeid;
    if (!instanceFull && !seidFull) return;
    this.counters.refused++;
    publish("se:refused", () => ({ hub: this, limit: seidFull ? "seid" : "instance" }));
    // Jittered, so refused clients do not all come back in the same second.
    const retryAfter = Math.ceil((this.#retryMs / 1000) * (1 + Math.random()));
    if (seidFull) {
      throw new ConnectionLimitError("seid", this.#maxConnectionsPerSeid, retryAfter);
    }
    throw new ConnectionLimitError("instance", this.#maxConnections, retryAfter);
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
    if (topic === undefined) return this.#dispatch(ALL, message, this.#connections);
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
    publish("se:error", () => ({ hub: this, error }));
    if (this.#listeners.error.size === 0) {
      console.error("[se]", error);
      return;
    }
    for (const listener of this.#listeners.error) listener(error);
  }

  /**
   * Ends every local stream (after what is queued, without a last event), so each client
   * reconnects with its `Last-Event-ID` after the advertised `retry` and replays what it
   * missed from the history (or is told to reset). The hub stays open: new connections are
   * accepted at once. Each ended stream counts in `stats().resyncs` and emits `disconnect`
   * with reason `"resync"`. Does nothing once the hub is closed.
   */
  resync(options: HubResyncOptions = {}): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const drainMs = nonNegativeOption("drainMs", options.drainMs, this.#drainMs);
    return endOverWindow([...this.#connections], drainMs, (connection) => {
      if (connection.closed) return;
      this.counters.resyncs++;
      connection.closeForHub(undefined, "resync");
    });
  }

  /**
   * Ends the streams of a seid (or of a topic's subscribers) on **every** instance, through the
   * backplane, in order after the events sent before (logout, a revoked token); a predicate
   * ends matching streams of this instance only (a function cannot travel). Each stream gets
   * `options.event` first, then ends (reason `"disconnected"`); its client reconnects after
   * `retry` unless refused (`refuseReconnectMs`) or rejected by your auth.
   * @throws {SseFormatError} when `options.event` is invalid; {@link SeOptionError} for an invalid target or option.
   */
  disconnect(who: DisconnectTarget, options: DisconnectOptions = {}): DisconnectResult {
    if (this.#closed) {
      throw new SeError("SE_ERR_HUB_CLOSED", "Cannot disconnect: the hub is closed.");
    }
    const frame = options.event === undefined ? "" : formatEvent(options.event, this.serializer);
    const request: DisconnectRequest = {
      refuseReconnectMs: nonNegativeOption("refuseReconnectMs", options.refuseReconnectMs, 0),
    };
    if (typeof who === "function") {
      const matching = [...this.#connections].filter((connection) => who(connection));
      return { local: this.#end(matching, frame, request), published: false };
    }
    const target = disconnectTarget(who);
    const backplane = this.#backplane;
    const envelope: Envelope = { origin: this.instanceId, target, frame, disconnect: request };
    if (this.#ordered && backplane !== undefined) {
      backplane.publish(envelope);
      return { local: 0, published: true };
    }
    const local = this.#disconnect(target, frame, request);
    backplane?.publish(envelope);
    return { local, published: backplane !== undefined };
  }

  /** Ends the local streams `target` names, and refuses its seids as asked. */
  #disconnect(target: Target, frame: string, request: DisconnectRequest): number {
    if (target.kind === "seid") this.#refusals.add(target.seid, request.refuseReconnectMs);
    const connections = this.#targets(target);
    return connections ? this.#end([...connections], frame, request) : 0;
  }

  #end(connections: readonly Connection[], frame: string, request: DisconnectRequest): number {
    let ended = 0;
    for (const connection of connections) {
      if (connection.closed) continue;
      this.#refusals.add(connection.seid, request.refuseReconnectMs);
      connection.closeForHub(frame === "" ? undefined : frame, "disconnected");
      ended++;
    }
    return ended;
  }

  /**
   * Ends every stream (after an optional last event), stops the heartbeat and closes the
   * backplane and history; a client that still has not taken its end after `graceMs` is torn
   * down. Idempotent.
   */
  async close(options: HubCloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    const finalFrame =
      options.event === undefined ? undefined : formatEvent(options.event, this.serializer);
    const graceMs = nonNegativeOption("graceMs", options.graceMs, this.#owner.graceMs);
    const drainMs = nonNegativeOption("drainMs", options.drainMs, this.#drainMs);
    this.#closed = true;
    this.#draining = true;
    this.#stopHeartbeat();
    await endOverWindow([...this.#connections], drainMs, (connection) =>
      connection.closeForHub(finalFrame, "hub-closed", graceMs),
    );
    this.#draining = false;
    await this.#backplane?.close();
    await this.history?.close?.();
  }

  #dispatch(
    target: Target,
    message: EventMessage,
    connections: Iterable<Connection> | undefined,
  ): Delivery {
    if (this.#closed) throw new SeError("SE_ERR_HUB_CLOSED", "Cannot send: the hub is closed.");
    checkMessage(message);
    const given = message.id === undefined ? undefined : checkId(message.id);
    const backplane = this.#backplane;
    if (this.#ordered && backplane !== undefined) {
      // The backplane orders it; every instance, this one too, delivers it from `receive`.
      const frame = formatFrame(message, undefined, this.serializer);
      const autoId = this.autoGenerateId;
      backplane.publish({ origin: this.instanceId, target, frame, id: given, autoId });
      return { id: given, local: 0, published: true };
    }
    const position = this.#nextPosition();
    const id = given ?? (this.autoGenerateId ? position : undefined);
    const frame = formatFrame(message, id, this.serializer);
    const resumable = id === undefined ? undefined : position;
    if (resumable !== undefined) {
      this.history?.append({ id, position, target, frame, time: Date.now() });
      this.#head = position;
    }
    const local = connections ? this.#deliver(connections, frame, resumable) : 0;
    if (backplane === undefined || target.kind === "connection") {
      return { id, local, published: false };
    }
    const envelope: Envelope =
      id === undefined
        ? { origin: this.instanceId, target, frame }
        : { origin: this.instanceId, target, frame, id };
    backplane.publish(envelope);
    return { id, local, published: true };
  }

  #deliver(connections: Iterable<Connection>, frame: string, position: string | undefined): number {
    let count = 0;
    for (const connection of connections) {
      connection.deliver(frame, position);
      count++;
    }
    this.counters.eventsSent += count;
    return count;
  }

  /** One event to one connection: not replayable, its id made from the connection's cursor. */
  #sendToConnection(connection: Connection, message: EventMessage): string | undefined {
    if (this.#closed) throw new SeError("SE_ERR_HUB_CLOSED", "Cannot send: the hub is closed.");
    checkMessage(message);
    const id = message.id !== undefined ? checkId(message.id) : this.#connectionId(connection);
    connection.write(formatFrame(message, id, this.serializer));
    this.counters.eventsSent++;
    return id;
  }

  /**
   * The generated id of a per-connection event: `<cursor>~<n>`, which resumes after the cursor.
   * While a replay has not placed the client yet, its own `Last-Event-ID`, which resumes the same.
   */
  #connectionId(connection: Connection): string | undefined {
    if (!this.autoGenerateId) return undefined;
    const cursor = connection.cursor;
    if (cursor === undefined && connection.lastEventId !== undefined) return connection.lastEventId;
    return connectionEventId(cursor ?? "0", ++connection.ownEvents);
  }

  #receive(envelope: Envelope): void {
    if (this.#closed) return;
    const { target, frame, id } = envelope;
    if (envelope.disconnect !== undefined) {
      // An unordered backplane: this instance ended its own streams when it published.
      if (this.#ordered || envelope.origin !== this.instanceId) {
        this.#disconnect(target, frame, envelope.disconnect);
      }
      return;
    }
    let position = envelope.position;
    if (!this.#ordered) {
      if (envelope.origin === this.instanceId) return;
      position = this.#nextPosition();
      if (id !== undefined && this.history && !this.history.shared) {
        this.history.append({ id, position, target, frame, time: Date.now() });
      }
    }
    const connections = this.#targets(target);
    if (envelope.gap === true) {
      if (position !== undefined) this.#head = position;
      if (connections) for (const connection of connections) this.#gap(connection, position);
      return;
    }
    const resumable = id === undefined ? undefined : position;
    if (resumable !== undefined) this.#head = resumable;
    if (connections) this.#deliver(connections, frame, resumable);
  }

  #targets(target: Target): Iterable<Connection> | undefined {
    switch (target.kind) {
      case "all":
        return this.#connections;
      case "seid":
        return this.#bySeid.get(target.seid);
      case "topic":
        return this.#byTopic.get(target.topic);
      default:
        return undefined;
    }
  }

  /** Events for this connection may be lost at `position`: reset it there. */
  #gap(connection: Connection, position: string | undefined): void {
    if (position !== undefined && connection.has(position)) return;
    const held = connection.held;
    if (held !== undefined) {
      // A replay runs: the gap is in the history too; reading it again resets in order.
      held.overflowed = true;
      return;
    }
    this.#reset(connection, "outage");
    if (position !== undefined) connection.cursor = position;
  }

  #reset(connection: Connection, reason: ResetReason): void {
    const policy = this.#staleReplay;
    if (connection.closed) return;
    publish("se:reset", () => ({ hub: this, connection, reason }));
    if (policy === "ignore") return;
    if (typeof policy === "function") {
      try {
        policy(connection);
      } catch (error) {
        this.reportError(error);
      }
      return;
    }
    this.counters.resets++;
    const data =
      connection.lastEventId === undefined
        ? { reason }
        : { reason, lastEventId: connection.lastEventId };
    this.#sendToConnection(connection, { event: this.#resetEvent, data });
  }

  #appendOrigin(history: ReplayHistory): void {
    const position = this.#nextPosition();
    history.append({ id: undefined, position, target: ALL, frame: "", time: Date.now() });
    this.#head = position;
  }

  #detach(connection: Connection, reason: CloseReason): void {
    if (!this.#connections.delete(connection)) return;
    removeFrom(this.#bySeid, connection.seid, connection);
    if (this.#connections.size === 0) this.#stopHeartbeat();
    this.#emit("disconnect", connection, reason);
    publish("se:disconnect", () => ({ hub: this, connection, reason }));
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
  backplane: Backplane | undefined,
): ReplayHistory | undefined {
  if (option === false) return undefined;
  // An ordered backplane keeps the shared history: use it unless one was given.
  if (option === undefined && backplane?.ordered === true && backplane.history) {
    return backplane.history();
  }
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

function nonNegativeOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new SeOptionError(name, `must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

function disconnectTarget(who: string | { seid?: unknown; topic?: unknown }): Target {
  if (typeof who === "string") return { kind: "seid", seid: checkName("seid", who) };
  if (typeof who === "object" && who !== null) {
    if (typeof who.seid === "string") return { kind: "seid", seid: checkName("seid", who.seid) };
    if (typeof who.topic === "string") {
      return { kind: "topic", topic: checkName("topic", who.topic) };
    }
  }
  throw new SeOptionError("target", "must be a seid, { seid }, { topic } or a predicate function");
}

function asOption<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!SseFormatError.isInstance(error)) throw error;
    throw new SeOptionError(name, error.rule, { cause: error });
  }
}

function lifetimeOption(name: string, value: number | false | undefined): number | false {
  if (value === undefined || value === false) return false;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new SeOptionError(name, `must be a positive number of ms or false, got ${String(value)}`);
  }
  return value;
}

/**
 * In how many ms a new stream must end: the earlier of its `expiresAt` and its `maxStreamMs`
 * (less up to 10 %, at random, so streams opened together do not end together), if any.
 */
function lifetime(options: ConnectOptions, hubMax: number | false): number | undefined {
  const max =
    options.maxStreamMs === undefined ? hubMax : lifetimeOption("maxStreamMs", options.maxStreamMs);
  let endsIn = max === false ? undefined : max * (1 - Math.random() * 0.1);
  const expiresAt = options.expiresAt;
  if (expiresAt !== undefined) {
    const at = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt;
    if (typeof at !== "number" || !Number.isFinite(at)) {
      throw new SeOptionError(
        "expiresAt",
        `must be a Date or ms since the epoch, got ${String(at)}`,
      );
    }
    const left = at - Date.now();
    if (endsIn === undefined || left < endsIn) endsIn = left;
  }
  return endsIn;
}

function capOption(name: string, value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new SeOptionError(name, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function checkMessage(message: unknown): void {
  if (typeof message !== "object" || message === null) {
    throw new SseFormatError(
      "message",
      `must be an object, got ${message === null ? "null" : typeof message}`,
    );
  }
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
