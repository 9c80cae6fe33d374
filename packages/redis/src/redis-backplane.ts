import type { Backplane, BackplaneReceiver, Envelope } from "@se/core";
import { SeError, SeOptionError } from "@se/core";
import type { Redis } from "ioredis";
import { decodeEnvelope, encodeEnvelope } from "./envelope-codec.js";
import { HybridClock } from "./hybrid-clock.js";
import { OutageReporter } from "./outage-reporter.js";
import {
  closeClient,
  OWN_CONNECTION_OPTIONS,
  openClient,
  type RedisConnectionOptions,
} from "./redis-connection.js";
import { RedisReplayHistory, type RedisReplayHistoryOptions } from "./redis-replay-history.js";
import { RedisUnavailableError } from "./redis-unavailable-error.js";

/** Options of a {@link RedisBackplane}. */
export interface RedisBackplaneOptions extends RedisConnectionOptions {
  /** A client you opened, used only to subscribe. se never closes it. @default a connection se opens (`client.duplicate()` when `client` is given) */
  subscriber?: Redis;
  /** Prefix of every channel and key (`<prefix>events`, `<prefix>history`), so several apps can share a Redis. @default "se:" */
  prefix?: string;
  /** Publishes waiting for Redis before further ones are dropped. @default 10_000 */
  maxPendingCommands?: number;
  /** Suffix of this instance's event ids (letters, digits, `_`). @default 8 random hex digits */
  node?: string;
  /**
   * When the subscriber connection comes back after it was lost, end every stream of the hub
   * (`receiver.resync()`), so each client reconnects with `Last-Event-ID` and replays, from the
   * shared history, what the other instances sent meanwhile (or is told to reset). `false`
   * keeps the streams open: their clients silently miss those events. @default true
   */
  resyncOnRecovery?: boolean;
}

/** Options of {@link RedisBackplane.history}: those of a {@link RedisReplayHistory} minus the connection. */
export type SharedHistoryOptions = Omit<
  RedisReplayHistoryOptions,
  keyof RedisConnectionOptions | "onError"
>;

type Starting = { resolve: () => void; reject: (error: unknown) => void };

/**
 * Carries a hub's sends to the hubs of every other instance over Redis pub/sub (one
 * channel, `<prefix>events`), and makes event ids with a {@link HybridClock}, without a
 * Redis round trip per event.
 *
 * While Redis is away, sends stay local and nothing is buffered; the outage is reported
 * once through the hub's `error` event, and the connections come back by themselves. When
 * the subscription is back after it was lost, the hub's streams are ended so their clients
 * reconnect and replay what they missed (see `resyncOnRecovery`).
 *
 * @example
 * const backplane = new RedisBackplane({ url: "redis://127.0.0.1:6379" });
 * const hub = new EventHub({ backplane, history: backplane.history() });
 * await hub.ready();
 */
export class RedisBackplane implements Backplane {
  /** The pub/sub channel. */
  readonly channel: string;
  readonly prefix: string;
  readonly maxPendingCommands: number;
  /** Whether the hub's streams are ended when the subscription comes back after an outage. */
  readonly resyncOnRecovery: boolean;
  readonly clock: HybridClock;
  /** The connection used for commands (publish, history). */
  readonly client: Redis;
  readonly #options: RedisBackplaneOptions;
  readonly #ownsClient: boolean;
  readonly #reporter = new OutageReporter((error) => console.error("[se]", error));
  #history: RedisReplayHistory | undefined;
  #subscriber: Redis | undefined;
  #ownsSubscriber = false;
  #receiver: BackplaneReceiver | undefined;
  #starting: Starting | undefined;
  #subscribed = false;
  #everReady: boolean;
  /** The subscription was lost after it had been up: other instances' events may be missing. */
  #missed = false;
  #pending = 0;
  #closed = false;

  /** @throws {SeOptionError} when `maxPendingCommands`, `node` or `resyncOnRecovery` is invalid. */
  constructor(options: RedisBackplaneOptions = {}) {
    this.#options = options;
    this.prefix = options.prefix ?? "se:";
    this.channel = `${this.prefix}events`;
    const max = options.maxPendingCommands ?? 10_000;
    if (typeof max !== "number" || !Number.isFinite(max) || max <= 0) {
      throw new SeOptionError("maxPendingCommands", `must be a positive number, got ${max}`);
    }
    this.maxPendingCommands = max;
    const resync = options.resyncOnRecovery ?? true;
    if (typeof resync !== "boolean") {
      throw new SeOptionError("resyncOnRecovery", `must be a boolean, got ${typeof resync}`);
    }
    this.resyncOnRecovery = resync;
    try {
      this.clock = new HybridClock(options.node === undefined ? {} : { node: options.node });
    } catch (error) {
      throw new SeOptionError("node", "must be letters, digits or _", { cause: error });
    }
    this.#ownsClient = options.client === undefined;
    this.client = options.client ?? openClient(options);
    this.#everReady = this.client.status === "ready";
    this.client.on("ready", this.#onClientReady);
    this.client.on("error", this.#onError);
    this.client.on("close", this.#onClose);
  }

  /** The connection used to subscribe (once started). */
  get subscriber(): Redis | undefined {
    return this.#subscriber;
  }

  /** True while both connections are up and subscribed: sends reach the other instances. */
  get connected(): boolean {
    return this.client.status === "ready" && this.#subscribed;
  }

  /**
   * The {@link RedisReplayHistory} for this backplane's hub, on its connection and prefix.
   * Each event is stored and published in one transaction (`MULTI`), so the history holds
   * events in the order every instance receives them; failures count toward the same
   * once-per-outage report. Give it to the same hub as the backplane.
   * @throws {SeOptionError} when a limit is invalid.
   * @throws {SeError} when called a second time.
   */
  history(options: SharedHistoryOptions = {}): RedisReplayHistory {
    if (this.#history !== undefined) {
      throw new SeError(
        "SE_ERR_BACKPLANE_IN_USE",
        "RedisBackplane.history() was already called: one history per backplane.",
      );
    }
    this.#history = new RedisReplayHistory(
      { prefix: this.prefix, ...options, client: this.client },
      this.#reporter,
    );
    return this.#history;
  }

  /**
   * Subscribes. Resolves once subscribed; rejects (the hub reports it) when Redis cannot
   * be reached, and keeps retrying in the background.
   * @throws {SeError} when the backplane was already started by a hub.
   */
  start(receiver: BackplaneReceiver): Promise<void> {
    if (this.#receiver !== undefined || this.#closed) {
      throw new SeError(
        "SE_ERR_BACKPLANE_IN_USE",
        "This RedisBackplane is already used by a hub (or closed): create one backplane per hub.",
      );
    }
    this.#receiver = receiver;
    this.#reporter.reportTo((error) => receiver.reportError(error));
    const given = this.#options.subscriber;
    this.#ownsSubscriber = given === undefined;
    const subscriber =
      given ??
      (this.#options.client
        ? this.#options.client.duplicate(OWN_CONNECTION_OPTIONS)
        : openClient(this.#options));
    this.#subscriber = subscriber;
    const started = new Promise<void>((resolve, reject) => {
      this.#starting = { resolve, reject };
    });
    subscriber.on("message", this.#onMessage);
    subscriber.on("ready", this.#subscribe);
    subscriber.on("error", this.#onError);
    subscriber.on("close", this.#onSubscriberClose);
    if (subscriber.status === "ready") this.#subscribe();
    return started;
  }

  /**
   * Publishes to the other instances (and, with {@link history}, stores the event in the same
   * transaction). Never throws; while Redis is away the event stays local.
   */
  publish(envelope: Envelope): void {
    if (this.#closed) return;
    const history = envelope.id === undefined ? undefined : this.#history;
    if (this.client.status !== "ready") {
      history?.lose();
      // Before the first connection this is start-up (sends are local until `hub.ready()`).
      if (this.#everReady) this.#fail("not connected; events stay on this instance");
      return;
    }
    if (this.#pending >= this.maxPendingCommands) {
      history?.lose();
      this.#fail(`${this.#pending} publishes are waiting for Redis; events stay on this instance`);
      return;
    }
    this.#pending++;
    const transaction = this.client.multi();
    if (history !== undefined && envelope.id !== undefined) {
      const { id, target, frame } = envelope;
      history.addTo(transaction, { id, target, frame, time: Date.now() });
    }
    transaction.publish(this.channel, encodeEnvelope(envelope));
    transaction.exec().then(
      (results) => {
        this.#pending--;
        const failed = results?.find(([error]) => error)?.[0];
        if (failed) this.#published(history, failed);
        // A stall (too many publishes waiting) ends without a reconnect: Redis answered.
        else this.#recoverIfUp();
      },
      (error: unknown) => {
        this.#pending--;
        this.#published(history, error);
      },
    );
  }

  /** The next event id from the {@link HybridClock}: unique and increasing across instances. */
  nextId(): string {
    return this.clock.next();
  }

  /** Unsubscribes and closes the connections the backplane opened; given clients stay open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#starting?.resolve();
    this.#starting = undefined;
    const subscriber = this.#subscriber;
    const closing: Promise<void>[] = [];
    if (subscriber) {
      subscriber.off("message", this.#onMessage);
      subscriber.off("ready", this.#subscribe);
      if (this.#ownsSubscriber) closing.push(closeClient(subscriber));
      else if (subscriber.status === "ready") {
        closing.push(subscriber.unsubscribe(this.channel).then(noop, noop));
      }
    }
    this.client.off("ready", this.#onClientReady);
    if (this.#ownsClient) closing.push(closeClient(this.client));
    await Promise.all(closing);
    for (const client of [this.client, subscriber]) {
      client?.off("error", this.#onError);
      client?.off("close", this.#onClose);
      client?.off("close", this.#onSubscriberClose);
    }
  }

  readonly #subscribe = (): void => {
    const subscriber = this.#subscriber;
    if (this.#closed || subscriber === undefined) return;
    subscriber.subscribe(this.channel).then(
      () => {
        this.#subscribed = true;
        this.#starting?.resolve();
        this.#starting = undefined;
        this.#recoverIfUp();
      },
      (error: unknown) => this.#fail("could not subscribe", error),
    );
  };

  readonly #onMessage = (channel: string, message: string): void => {
    const receiver = this.#receiver;
    if (channel !== this.channel || receiver === undefined || this.#closed) return;
    const envelope = decodeEnvelope(message);
    if (envelope === undefined) {
      receiver.reportError(
        new Error(`[se] ignored a message on ${channel} that is not an se envelope`),
      );
      return;
    }
    if (envelope.id !== undefined) this.clock.observe(envelope.id);
    receiver.receive(envelope);
  };

  readonly #onClientReady = (): void => {
    this.#everReady = true;
    this.#recoverIfUp();
  };

  readonly #onError = (error: unknown): void => {
    // Closing a connection that is still connecting fails its commands: not an outage.
    if (!this.#closed) this.#fail("connection error", error);
  };

  readonly #onClose = (): void => {
    if (!this.#closed) this.#fail("connection lost");
  };

  readonly #onSubscriberClose = (): void => {
    if (this.#subscribed && !this.#closed) this.#missed = true;
    this.#subscribed = false;
    this.#onClose();
  };

  #published(history: RedisReplayHistory | undefined, error: unknown): void {
    history?.lose();
    this.#fail("a publish failed; the event may have stayed on this instance", error);
  }

  #recoverIfUp(): void {
    if (!this.connected) return;
    this.#reporter.recover();
    this.#resyncIfMissed();
  }

  /**
   * Subscribed again after the subscription was lost (not after the first connect): the other
   * instances' events from that time never reached this hub's clients. Waits until the command
   * connection is ready too ({@link connected}), so the clients' replay can read the history.
   */
  #resyncIfMissed(): void {
    if (!this.#missed || this.#closed) return;
    this.#missed = false;
    if (!this.resyncOnRecovery) return;
    try {
      this.#receiver?.resync?.();
    } catch (error) {
      this.#receiver?.reportError(error);
    }
  }

  /** Reports once per outage; while a hub waits for the first subscription, rejects that instead. */
  #fail(what: string, cause?: unknown): void {
    const starting = this.#starting;
    if (starting === undefined) {
      this.#reporter.fail(what, cause);
      return;
    }
    this.#starting = undefined;
    if (this.#reporter.down) starting.reject(new RedisUnavailableError(what, { cause }));
    else this.#reporter.fail(what, cause, starting.reject);
  }
}

/**
 * Creates a {@link RedisBackplane}.
 * @example
 * const backplane = redisBackplane({ url: process.env.REDIS_URL, prefix: "chat:" });
 * const hub = new EventHub({ backplane, history: backplane.history({ maxEvents: 5000 }) });
 */
export function redisBackplane(options: RedisBackplaneOptions = {}): RedisBackplane {
  return new RedisBackplane(options);
}

function noop(): void {}
