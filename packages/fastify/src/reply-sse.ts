import {
  type Connection,
  ConnectionLimitError,
  formatEvent,
  type PipeOptions,
  ReconnectRefusedError,
  readLastEventId,
  SeError,
} from "@se/core";
import { openEventStream } from "@se/core/node";
import type { FastifyReply } from "fastify";
import {
  FST_ERR_SE_BAD_REQUEST,
  FST_ERR_SE_INSTANCE_FULL,
  FST_ERR_SE_RECONNECT_REFUSED,
  FST_ERR_SE_REPLY_SENT,
  FST_ERR_SE_STREAM_ENDED,
  FST_ERR_SE_TOO_MANY_CONNECTIONS,
} from "./errors.js";
import type { AnyEvents, EventMap, TypedMessage } from "./event-map.js";
import type { SE } from "./se.js";

/** Options of {@link ReplySse.open}. */
export interface ReplySseOpenOptions {
  /** Topics to join from the start. */
  topics?: Iterable<string>;
  /** When the stream must end, e.g. the token's `exp` (ms since the epoch or a `Date`). */
  expiresAt?: number | Date;
  /** This stream's longest life in ms (overrides the `maxStreamMs` option), or `false`. */
  maxStreamMs?: number | false;
}

/**
 * The modern API of one reply's event stream (`reply.sse`). The stream opens on the
 * first send (or `open()`); headers go out at once so the client's `onopen` fires.
 */
export class ReplySse<E extends EventMap = AnyEvents> {
  readonly #reply: FastifyReply;
  readonly #se: SE<E>;
  #connection: Connection | undefined;
  #ended = false;
  /** The signal handed out before the stream opened. */
  #early: AbortController | undefined;
  /** The route's handler returned (or settled): replay may start at once. */
  #handlerDone = false;

  /** @internal */
  constructor(reply: FastifyReply, se: SE<E>) {
    this.#reply = reply;
    this.#se = se;
  }

  /** The open connection, once the stream is open. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** True once the stream has ended (`close()`/`endEvent()`, client gone, or app closing). */
  get closed(): boolean {
    return this.#ended || this.#connection?.closed === true;
  }

  /**
   * Aborts when the stream ends, or when the client leaves before it opened. Does not open
   * the stream.
   */
  get signal(): AbortSignal {
    if (this.#connection !== undefined) return this.#connection.signal;
    if (this.#early === undefined) {
      const early = new AbortController();
      this.#early = early;
      const raw = this.#reply.raw;
      if (raw.destroyed) early.abort("client-gone");
      else raw.once("close", () => early.abort(this.#connection?.closeReason ?? "client-gone"));
    }
    return this.#early.signal;
  }

  /** The `Last-Event-ID` the client reconnected with, if any (header or `?lastEventId=`). Does not open the stream. */
  get lastEventId(): string | undefined {
    if (this.#connection !== undefined) return this.#connection.lastEventId;
    const request = this.#reply.request;
    return readLastEventId(request.headers["last-event-id"], request.url);
  }

  /**
   * Opens the event stream: checks the seid, topics and `Last-Event-ID` (a 400
   * `FST_ERR_SE_BAD_REQUEST` when the client's input breaks a limit), copies headers set on the
   * reply (CORS, cookies) to the response, adds the event-stream headers, sends them, and
   * registers the client under `request.seid`, in `options.topics` from the start. What the
   * client missed (when it sent `Last-Event-ID`) is replayed once the handler returns, so topics
   * it subscribes before then are replayed too; `pipe()` and {@link startReplay} start it
   * earlier, and it starts at the latest {@link REPLAY_START_MS} after the stream opened.
   * Idempotent until the stream ends.
   * @throws FST_ERR_SE_STREAM_ENDED after the stream ended; FST_ERR_SE_REPLY_SENT when the reply was sent otherwise.
   */
  open(options: ReplySseOpenOptions = {}): Connection {
    if (this.#ended) throw new FST_ERR_SE_STREAM_ENDED();
    const open = this.#connection;
    if (open !== undefined) {
      if (options.topics !== undefined) for (const topic of options.topics) this.subscribe(topic);
      return open;
    }
    const reply = this.#reply;
    if (reply.sent || reply.raw.headersSent) throw new FST_ERR_SE_REPLY_SENT();
    const topics = options.topics === undefined ? undefined : [...options.topics];
    const hub = this.#se.hub;
    const seid = reply.request.seid ?? undefined;
    const lastEventId = readLastEventId(reply.request.headers["last-event-id"], reply.request.url);
    const { expiresAt, maxStreamMs } = options;
    const lifetime = {
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(maxStreamMs === undefined ? {} : { maxStreamMs }),
    };
    refuse(reply, () => hub.checkConnect({ seid, topics, lastEventId, ...lifetime }));
    const headers = reply.getHeaders() as Record<string, string | number | string[]>;
    delete headers["content-length"];
    reply.hijack();
    const settings = this.#se.options;
    const body = settings.stream ? new settings.stream(settings.streamOptions) : undefined;
    const deferReplay = !this.#handlerDone;
    const connection = openEventStream(hub, reply.request.raw, reply.raw, {
      seid,
      headers,
      deferReplay,
      ...lifetime,
      ...(topics ? { topics } : {}),
      ...(body ? { body } : {}),
    });
    this.#connection = connection;
    const early = this.#early;
    if (early !== undefined) {
      connection.signal.addEventListener("abort", () => early.abort(connection.closeReason), {
        once: true,
      });
    }
    if (deferReplay && connection.replaying) {
      // A route added before the plugin loaded is not wrapped: nothing tells when its handler
      // returns, so its replay starts once the handler's synchronous part is done.
      const wrapped = (reply.request as { [kHandled]?: unknown })[kHandled] != null;
      const timer = setTimeout(() => connection.startReplay(), wrapped ? REPLAY_START_MS : 0);
      timer.unref();
      connection.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    }
    reply.log.debug({ seid: connection.seid }, "event stream opened");
    return connection;
  }

  /** Starts the replay of what the client missed now, without waiting for the handler to return. */
  startReplay(): void {
    this.#connection?.startReplay();
  }

  /** The route's handler returned: start the replay. @internal */
  handlerDone(): void {
    this.#handlerDone = true;
    this.#connection?.startReplay();
  }

  /**
   * Sends one event on this reply's stream (opening it if needed). Returns the event id.
   * @throws FST_ERR_SE_STREAM_ENDED after the stream ended; SseFormatError for an invalid message.
   */
  send(message: TypedMessage<E>): string | undefined {
    // Before the stream opens, an invalid first event must fail the request (a 500 the
    // client sees), not commit a 200 stream: check it first, once.
    if (this.#connection === undefined) formatEvent(message, this.#se.hub.serializer);
    const connection = this.open();
    if (connection.closed) throw new FST_ERR_SE_STREAM_ENDED();
    return connection.send(message);
  }

  /** Sends a comment line (ignored by clients). */
  comment(text: string): void {
    this.send({ comment: text } as TypedMessage<E>);
  }

  /**
   * Joins a topic: the stream receives `fastify.se.broadcast(message, { topic })`, and, when
   * subscribed before the handler returns, the topic's events the client missed.
   */
  subscribe(topic: string): void {
    if (this.#connection === undefined) {
      refuse(this.#reply, () => this.#se.hub.checkConnect({ topics: [topic] }));
    }
    const connection = this.open();
    if (connection.closed) throw new FST_ERR_SE_STREAM_ENDED();
    connection.subscribe(topic);
  }

  /** Leaves a topic. */
  unsubscribe(topic: string): void {
    this.#connection?.unsubscribe(topic);
  }

  /**
   * Sends every item of an async iterable or Node readable stream, with backpressure;
   * stops the producer when the client leaves.
   */
  pipe<T>(source: AsyncIterable<T>, options?: PipeOptions<T>): Promise<void> {
    // Piping means the handler stays busy: the replay goes first, now.
    return this.open().pipe(source, options);
  }

  /** Ends the stream and removes the client. Opens and ends it if it never opened. Idempotent. */
  close(): void {
    if (this.#ended) return;
    if (this.#connection === undefined && !this.#reply.sent) this.open();
    this.#ended = true;
    this.#connection?.close();
  }
}

/** Set on a request by the plugin's handler wrapper (to the reply). @internal */
export const kHandled = Symbol.for("se.reply");

/** The replay of a stream opened by a handler that has not returned starts after this at the latest. */
export const REPLAY_START_MS = 250;

/** Errors of the client's input (seid, topic, `Last-Event-ID`): answered with a 400. */
const CLIENT_ERRORS: ReadonlySet<string> = new Set([
  "SE_ERR_INVALID_OPTION",
  "SE_ERR_INVALID_LAST_EVENT_ID",
]);

/**
 * Runs the hub's checks before the stream opens: a broken limit of the client's input becomes a
 * 400; a cap a 429 (per seid) or 503 (instance) with `Retry-After`; a seid disconnected with
 * `refuseReconnectMs` a 204 (sent here: Fastify answers no error below 400).
 */
function refuse(reply: FastifyReply, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (ReconnectRefusedError.isInstance(error)) {
      if (!reply.sent) reply.code(204).send();
      throw new FST_ERR_SE_RECONNECT_REFUSED(error.message, { cause: error });
    }
    if (ConnectionLimitError.isInstance(error)) {
      reply.header("retry-after", String(error.retryAfterSeconds));
      const Refusal =
        error.limit === "seid" ? FST_ERR_SE_TOO_MANY_CONNECTIONS : FST_ERR_SE_INSTANCE_FULL;
      throw new Refusal(error.message, { cause: error });
    }
    if (SeError.isInstance(error) && CLIENT_ERRORS.has(error.code)) {
      throw new FST_ERR_SE_BAD_REQUEST(error.message, { cause: error });
    }
    throw error;
  }
}
