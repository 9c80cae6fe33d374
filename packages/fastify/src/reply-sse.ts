import { type Connection, formatEvent, type PipeOptions } from "@se/core";
import { openEventStream } from "@se/core/node";
import type { FastifyReply } from "fastify";
import { FST_ERR_SE_REPLY_SENT, FST_ERR_SE_STREAM_ENDED } from "./errors.js";
import type { AnyEvents, EventMap, TypedMessage } from "./event-map.js";
import type { SE } from "./se.js";

/**
 * The modern API of one reply's event stream (`reply.sse`). The stream opens on the
 * first send (or `open()`); headers go out at once so the client's `onopen` fires.
 */
export class ReplySse<E extends EventMap = AnyEvents> {
  readonly #reply: FastifyReply;
  readonly #se: SE<E>;
  #connection: Connection | undefined;
  #ended = false;

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

  /** Aborts when the stream ends. Opens the stream if needed. */
  get signal(): AbortSignal {
    return (this.#connection ?? this.open()).signal;
  }

  /** The `Last-Event-ID` the client reconnected with, if any. */
  get lastEventId(): string | undefined {
    return (this.#connection ?? this.open()).lastEventId;
  }

  /**
   * Opens the event stream: copies headers set on the reply (CORS, cookies) to the response,
   * adds the event-stream headers, sends them, and registers the client under `request.seid`
   * (replaying what it missed when it sent `Last-Event-ID`). Idempotent until the stream ends.
   * @throws FST_ERR_SE_STREAM_ENDED after the stream ended; FST_ERR_SE_REPLY_SENT when the reply was sent otherwise.
   */
  open(): Connection {
    if (this.#ended) throw new FST_ERR_SE_STREAM_ENDED();
    if (this.#connection !== undefined) return this.#connection;
    const reply = this.#reply;
    if (reply.sent || reply.raw.headersSent) throw new FST_ERR_SE_REPLY_SENT();
    const headers = reply.getHeaders() as Record<string, string | number | string[]>;
    delete headers["content-length"];
    reply.hijack();
    const options = this.#se.options;
    const body = options.stream ? new options.stream(options.streamOptions) : undefined;
    const connection = openEventStream(this.#se.hub, reply.request.raw, reply.raw, {
      seid: reply.request.seid ?? undefined,
      headers,
      ...(body ? { body } : {}),
    });
    this.#connection = connection;
    reply.log.debug({ seid: connection.seid }, "event stream opened");
    return connection;
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

  /** Joins a topic: the stream receives `fastify.se.broadcast(message, { topic })`. */
  subscribe(topic: string): void {
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
