import type { Duplex, DuplexOptions } from "node:stream";
import {
  type ClientsView,
  type Delivery,
  type DisconnectOptions,
  type DisconnectResult,
  type DisconnectTarget,
  EventHub,
  type EventHubOptions,
  type EventMessage,
  type HubCloseOptions,
  type HubResyncOptions,
  type HubStats,
  SeOptionError,
} from "@se/core";
import fp from "fastify-plugin";
import type { AnyEvents, EventId, EventMap, SendEventBySeid, TypedMessage } from "./event-map.js";
import { installSE } from "./install-se.js";
import { positionalMessage } from "./positional-message.js";
import type { SeidGenerator } from "./seid-generator.js";

/** Options of {@link SE}: the seed's options plus every {@link EventHubOptions} of the core. */
export interface SEOptions extends Omit<EventHubOptions, "seidGenerator"> {
  /**
   * Makes `request.seid` for every GET request: sync, async, or `(request, reply, done)`.
   * Must give a non-empty string. @default crypto.randomUUID() (unguessable)
   */
  seidGenerator?: SeidGenerator;
  /**
   * A stream class events are written through on their way to the response, created as
   * `new stream(streamOptions)` for each client (e.g. a Transform that also logs).
   * @default none: events are written straight to the response, as a PassThrough would pass them, without the extra copy
   */
  stream?: new (
    options?: DuplexOptions,
  ) => Duplex;
  /** Options for `new stream(streamOptions)`. @default { allowHalfOpen: false } */
  streamOptions?: DuplexOptions;
  /** A last event sent to every client when the app closes (e.g. `{ event: "shutdown" }`). */
  closeEvent?: EventMessage;
  /** How long `fastify.close()` lets a client that does not read keep its ended stream before it is torn down. @default 5000 */
  closeGraceMs?: number;
  /** Share an existing hub instead of creating one; the hub's own options then apply. */
  hub?: EventHub;
}

/**
 * Server-Sent Events for one Fastify app: `fastify.register(se.plugin)`, then
 * `reply.sendEvent`, `reply.sendEventBySeid`, `reply.endEvent`, `request.seid`, `reply.sse`
 * in routes and `fastify.se` (this object) anywhere.
 *
 * @example
 * const se = new SE<{ greeting: string }>();
 * await fastify.register(se.plugin);
 * fastify.get("/events", (request, reply) => { reply.sendEvent("hello world", "greeting"); });
 */
export class SE<E extends EventMap = AnyEvents> {
  /** The core hub: registry, broadcast, replay, heartbeats. */
  readonly hub: EventHub;
  /** The options this instance was created with (defaults applied). @internal */
  readonly options: Readonly<SEOptions>;
  /** The Fastify plugin to register. */
  readonly plugin;

  constructor(options: SEOptions = {}) {
    const {
      seidGenerator: _generator,
      stream,
      streamOptions,
      closeEvent: _close,
      closeGraceMs,
      hub,
      ...hubOptions
    } = options;
    this.options = { ...options, streamOptions: streamOptions ?? { allowHalfOpen: false } };
    if (
      closeGraceMs !== undefined &&
      (typeof closeGraceMs !== "number" || !Number.isFinite(closeGraceMs) || closeGraceMs < 0)
    ) {
      throw new SeOptionError(
        "closeGraceMs",
        `must be a non-negative number, got ${String(closeGraceMs)}`,
      );
    }
    if (stream !== undefined && typeof stream !== "function") {
      throw new TypeError('SE option "stream" must be a stream class (e.g. PassThrough)');
    }
    this.hub = hub ?? new EventHub(hubOptions);
    this.plugin = fp(async (fastify) => installSE(fastify, this), {
      fastify: "5.x",
      name: "@se/fastify",
    });
  }

  /** Live, read-only view of seid → open connections on this instance. */
  get clients(): ClientsView {
    return this.hub.clients;
  }

  /** The seed API: sends to every connection of `seid`; true when delivered or published. */
  readonly sendEventBySeid: SendEventBySeid<E> = ((
    seid: string,
    data: unknown,
    event?: string | null,
    id?: EventId,
    retry?: number | null,
  ) => {
    const delivery = this.hub.send(seid, positionalMessage(data, event, id, retry));
    return delivery.local > 0 || delivery.published;
  }) as SendEventBySeid<E>;

  /** Sends a message to every connection of `seid`, on every instance. */
  send(seid: string, message: TypedMessage<E>): Delivery {
    return this.hub.send(seid, message as EventMessage);
  }

  /** Sends a message to every client, or every subscriber of `options.topic`, on every instance. */
  broadcast(message: TypedMessage<E>, options?: { topic?: string }): Delivery {
    return this.hub.broadcast(message as EventMessage, options);
  }

  /**
   * Ends the streams of a seid (or `{ topic }`'s subscribers) on every instance, after an
   * optional last event (logout, revocation); a predicate ends matching streams of this instance.
   * With `refuseReconnectMs`, their reconnects are answered `204` for that long (the browser
   * stops reconnecting). See `EventHub.disconnect`.
   */
  disconnect(
    who: DisconnectTarget,
    options: Omit<DisconnectOptions, "event"> & { event?: TypedMessage<E> } = {},
  ): DisconnectResult {
    return this.hub.disconnect(who, options as DisconnectOptions);
  }

  /**
   * Ends every local stream so each client reconnects with `Last-Event-ID` and replays
   * (spread over `drainMs`). See `EventHub.resync`.
   */
  resync(options?: HubResyncOptions): Promise<void> {
    return this.hub.resync(options);
  }

  /** Counters for metrics: connections, events sent, bytes queued, drops, slow clients. */
  stats(): HubStats {
    return this.hub.stats();
  }

  /** Ends every stream (after `closeEvent`) and closes the backplane. Called by `fastify.close()`. */
  close(options: HubCloseOptions = {}): Promise<void> {
    const event = options.event ?? this.options.closeEvent;
    const graceMs = options.graceMs ?? this.options.closeGraceMs;
    return this.hub.close({
      ...options,
      ...(event === undefined ? {} : { event }),
      ...(graceMs === undefined ? {} : { graceMs }),
    });
  }
}
