import type { Backplane, BackplaneReceiver, Envelope, Target } from "@se/core";
import { SeError } from "@se/core";
import type { Redis } from "ioredis";
import { DroppedTargets } from "./dropped-targets.js";
import {
  decodeMessage,
  type EntryFields,
  eventFields,
  gapFields,
  originFields,
  type StreamEntry,
  toEnvelope,
} from "./envelope-codec.js";
import { OutageReporter } from "./outage-reporter.js";
import { positiveInteger } from "./positive-integer.js";
import {
  closeClient,
  OWN_CONNECTION_OPTIONS,
  openClient,
  type RedisConnectionOptions,
} from "./redis-connection.js";
import {
  RedisReplayHistory,
  type RedisReplayHistoryOptions,
  streamLimits,
} from "./redis-replay-history.js";
import { RedisUnavailableError } from "./redis-unavailable-error.js";
import { StreamScripts } from "./scripts.js";
import { StreamFollower } from "./stream-follower.js";

/** Options of a {@link RedisBackplane}. */
export interface RedisBackplaneOptions extends RedisConnectionOptions {
  /** A client you opened, used only to subscribe. se never closes it. @default a connection se opens (`client.duplicate()` when `client` is given) */
  subscriber?: Redis;
  /** Prefix of every channel and key (`<prefix>events`, `<prefix>history`, `<prefix>id:…`), so several apps can share a Redis. @default "se:" */
  prefix?: string;
  /** Sends waiting for a Redis answer; past this, sends are dropped (and become gaps). @default 10_000 */
  maxPendingCommands?: number;
  /** Distinct targets of dropped sends remembered for their gap entries; past this, one gap for everyone. @default 100 */
  maxGapTargets?: number;
}

/** Options of {@link RedisBackplane.history}. */
export type SharedHistoryOptions = RedisReplayHistoryOptions;

/**
 * The subscriber se opens subscribes by itself on every "ready": ioredis's own resubscription
 * leaves its promise unhandled when the connection drops again at once.
 */
const SUBSCRIBER_OPTIONS = { autoResubscribe: false } as const;

type Starting = { resolve: () => void; reject: (error: unknown) => void };

const RETRY_MS = 250;

/**
 * An ordered backplane over Redis: every shared send (broadcast, seid, topic) from any instance
 * is appended to one Redis Stream (`<prefix>history`) and published (`<prefix>events`) by one
 * Lua script, and every instance, the sender's included, delivers the stream in its order. The
 * stream entry id is the event's position (and its id, unless the caller gave one).
 *
 * Each send waits one Redis round trip before any client, local ones included, gets it. While
 * Redis is away, sends are dropped, and once it is back each instance writes a gap entry for
 * their targets, so the clients that miss them are told to reset. An instance that lost its
 * subscription reads what it missed from the stream.
 *
 * @example
 * const backplane = new RedisBackplane({ url: "redis://127.0.0.1:6379" });
 * const hub = new EventHub({ backplane, history: backplane.history() });
 * await hub.ready();
 */
export class RedisBackplane implements Backplane {
  readonly ordered = true;
  /** The pub/sub channel. */
  readonly channel: string;
  /** The stream's key. */
  readonly key: string;
  readonly prefix: string;
  readonly maxPendingCommands: number;
  readonly maxGapTargets: number;
  /** The connection used for commands (the scripts, catch-up reads, history). */
  readonly client: Redis;
  readonly #options: RedisBackplaneOptions;
  readonly #ownsClient: boolean;
  readonly #reporter = new OutageReporter((error) => console.error("[se]", error));
  readonly #scripts: StreamScripts;
  readonly #follower: StreamFollower;
  readonly #dropped: DroppedTargets;
  /** Stream limits, set by {@link history}; without a history no id keys are written. */
  #maxEvents = 1000;
  #maxAgeMs = 0;
  #history: RedisReplayHistory | undefined;
  #subscriber: Redis | undefined;
  #ownsSubscriber = false;
  #receiver: BackplaneReceiver | undefined;
  #starting: Starting | undefined;
  #beginning = false;
  #subscribed = false;
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** @throws {SeOptionError} when `maxPendingCommands` or `maxGapTargets` is invalid. */
  constructor(options: RedisBackplaneOptions = {}) {
    this.#options = options;
    this.prefix = options.prefix ?? "se:";
    this.channel = `${this.prefix}events`;
    this.key = `${this.prefix}history`;
    this.maxPendingCommands = positiveInteger(
      "maxPendingCommands",
      options.maxPendingCommands,
      10_000,
    );
    this.maxGapTargets = positiveInteger("maxGapTargets", options.maxGapTargets, 100);
    this.#dropped = new DroppedTargets(this.maxGapTargets);
    this.#ownsClient = options.client === undefined;
    this.client = options.client ?? openClient(options);
    this.#scripts = new StreamScripts(this.client, this.prefix);
    this.#follower = new StreamFollower({
      client: this.client,
      key: this.key,
      deliver: this.#deliver,
      gap: (position) => this.#receive({ ...this.#gap({ kind: "all" }), position }),
      newest: () => this.#scripts.origin(originFields(this.#origin()).payload),
      fail: (error) => this.#fail("could not read the stream to catch up", error),
    });
    this.client.on("ready", this.#onClientReady);
    this.client.on("error", this.#onError);
    this.client.on("close", this.#onClose);
  }

  /** The connection used to subscribe (once started). */
  get subscriber(): Redis | undefined {
    return this.#subscriber;
  }

  /** True while both connections are up, subscribed and the stream's position is known. */
  get connected(): boolean {
    return this.client.status === "ready" && this.#subscribed && this.#follower.head !== undefined;
  }

  /** The position of the last stream entry this instance delivered (`undefined` before start). */
  get position(): string | undefined {
    return this.#follower.head;
  }

  /**
   * The {@link RedisReplayHistory} of this backplane's stream, for the same hub: sets how long
   * the stream is and how long caller-given ids stay resolvable. Call it before the hub starts.
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
    const limits = streamLimits(options);
    this.#maxEvents = limits.maxEvents;
    this.#maxAgeMs = limits.maxAgeMs;
    this.#history = new RedisReplayHistory({
      client: this.client,
      scripts: this.#scripts,
      key: this.key,
      limits,
      isOpen: () => !this.#closed,
      head: () => this.#follower.head,
    });
    return this.#history;
  }

  /**
   * Subscribes, then reads the stream's newest position (`receiver.seek`). Resolves then;
   * rejects (the hub reports it) when Redis cannot be reached, and keeps retrying.
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
    this.#reporter.onChange = (down, error) => {
      // Before the first start, the hub learns of the failure from start()'s promise.
      if (this.#follower.head !== undefined || !down) receiver.state?.(down ? "down" : "up", error);
    };
    const given = this.#options.subscriber;
    this.#ownsSubscriber = given === undefined;
    const subscriber =
      given ??
      (this.#options.client
        ? this.#options.client.duplicate({ ...OWN_CONNECTION_OPTIONS, ...SUBSCRIBER_OPTIONS })
        : openClient(this.#options, SUBSCRIBER_OPTIONS));
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
   * Appends a shared send to the stream and publishes it (one script); it reaches the hubs,
   * this one's included, through their subscriptions. Never throws: a send that cannot be
   * ordered is dropped and becomes a gap entry once Redis is back.
   */
  publish(envelope: Envelope): void {
    if (this.#closed) return;
    if (this.#follower.head === undefined) {
      // Before the start: no position to order it after. A gap follows once started.
      this.#dropped.add(envelope.target);
      return;
    }
    if (this.client.status !== "ready") {
      this.#dropped.add(envelope.target);
      this.#fail("not connected; sends are dropped");
      return;
    }
    if (this.#pending >= this.maxPendingCommands) {
      this.#dropped.add(envelope.target);
      this.#fail(`${this.#pending} sends are waiting for Redis; further sends are dropped`);
      return;
    }
    this.#append(this.#dropped.take(), envelope);
  }

  /** Unsubscribes and closes the connections the backplane opened; given clients stay open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#follower.close();
    clearTimeout(this.#timer);
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

  /** Runs the append script for the gaps of `targets`, then `envelope`. */
  #append(targets: readonly Target[], envelope?: Envelope): void {
    const entries: EntryFields[] = targets.map((target) => this.#gapFields(target));
    const ids: (string | undefined)[] = targets.map(() => undefined);
    if (envelope !== undefined) {
      entries.push(eventFields(envelope));
      ids.push(envelope.id);
    }
    this.#pending++;
    this.#scripts.append(entries, ids, this.#maxEvents, this.#maxAgeMs).then(
      () => {
        this.#pending--;
        this.#recoverIfUp();
        this.#flushGaps();
      },
      (error: unknown) => {
        this.#pending--;
        // Its outcome is unknown: count it as dropped (a spurious reset, never a silent loss).
        for (const target of targets) this.#dropped.add(target);
        if (envelope !== undefined) this.#dropped.add(envelope.target);
        if (!this.#closed) this.#fail("a send failed; it may not have been ordered", error);
        this.#flushLater();
      },
    );
  }

  /** Writes the gap entries of dropped sends, if any and Redis can take them. */
  #flushGaps(): void {
    if (this.#closed || this.#dropped.size === 0 || this.client.status !== "ready") return;
    if (this.#pending >= this.maxPendingCommands) return;
    this.#append(this.#dropped.take());
  }

  #flushLater(): void {
    if (this.#closed || this.client.status !== "ready") return; // "ready" flushes
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#flushGaps(), RETRY_MS);
    this.#timer.unref?.();
  }

  #origin(): string {
    return this.#receiver?.instanceId ?? "";
  }

  #gapFields(target: Target): EntryFields {
    return gapFields(this.#origin(), target);
  }

  #gap(target: Target): Omit<Envelope, "position"> {
    return { origin: this.#origin(), target, frame: "", gap: true };
  }

  readonly #deliver = (entry: StreamEntry): void => {
    const envelope = toEnvelope(entry);
    if (envelope !== undefined) this.#receive(envelope);
  };

  #receive(envelope: Envelope): void {
    const receiver = this.#receiver;
    if (receiver === undefined || this.#closed) return;
    try {
      receiver.receive(envelope);
    } catch (error) {
      receiver.reportError(error);
    }
  }

  /** Subscribed and connected for the first time: reads the newest position, then delivers from it. */
  #begin(): void {
    if (this.#beginning || this.#closed || this.#follower.head !== undefined) return;
    if (!this.#subscribed || this.client.status !== "ready") return;
    this.#beginning = true;
    this.#scripts.origin(originFields(this.#origin()).payload).then(
      (position) => {
        this.#beginning = false;
        if (this.#closed) return;
        this.#receiver?.seek?.(position);
        this.#follower.start(position);
        this.#starting?.resolve();
        this.#starting = undefined;
        const wasDown = this.#reporter.down;
        this.#recoverIfUp();
        if (!wasDown) this.#receiver?.state?.("up");
        this.#flushGaps();
      },
      (error: unknown) => {
        this.#beginning = false;
        if (this.#closed) return;
        this.#fail("could not read the stream", error);
        if (this.client.status === "ready") {
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => this.#begin(), RETRY_MS);
          this.#timer.unref?.();
        }
      },
    );
  }

  readonly #subscribe = (): void => {
    const subscriber = this.#subscriber;
    if (this.#closed || subscriber === undefined) return;
    subscriber.subscribe(this.channel).then(
      () => {
        if (this.#closed) return;
        this.#subscribed = true;
        if (this.#follower.head === undefined) this.#begin();
        else this.#follower.catchUp(); // whatever was published while unsubscribed
        this.#recoverIfUp();
      },
      (error: unknown) => this.#fail("could not subscribe", error),
    );
  };

  readonly #onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel || this.#closed) return;
    const entry = decodeMessage(message);
    if (entry === undefined) {
      this.#receiver?.reportError(
        new Error(`[se] ignored a message on ${channel} that is not an se stream entry`),
      );
      return;
    }
    this.#follower.onMessage(entry);
  };

  readonly #onClientReady = (): void => {
    if (this.#closed) return;
    this.#flushGaps();
    if (this.#follower.head === undefined) this.#begin();
    else this.#follower.resume();
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
    this.#subscribed = false;
    this.#onClose();
  };

  #recoverIfUp(): void {
    if (this.connected) this.#reporter.recover();
  }

  /** Reports once per outage; while a hub waits for the first start, rejects that instead. */
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
