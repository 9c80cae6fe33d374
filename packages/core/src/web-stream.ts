import type { Connection } from "./connection.js";
import type { EventHub } from "./event-hub.js";
import type { EventSink, SinkListener } from "./event-sink.js";
import { eventStreamHeaders, readLastEventId } from "./event-stream-headers.js";

/** Options for {@link createEventStream}. */
export interface EventStreamOptions {
  seid?: string;
  lastEventId?: string | null;
  topics?: Iterable<string>;
  /** Ends the stream when it aborts (pass the request's signal). */
  signal?: AbortSignal;
  /** Bytes the stream buffers before the connection counts as slow. @default 65536 */
  highWaterMark?: number;
}

/** A Web `ReadableStream` of event-stream bytes, and the connection that feeds it. */
export interface EventStream {
  readonly stream: ReadableStream<Uint8Array>;
  readonly connection: Connection;
}

/**
 * Opens an event stream as a Web `ReadableStream`, for fetch-style servers (Hono, Bun,
 * Deno, undici). Cancelling the stream (the client went away) removes the connection.
 *
 * @example
 * const { stream } = createEventStream(hub, { signal: request.signal });
 * return new Response(stream, { headers: eventStreamHeaders(2) });
 */
export function createEventStream(hub: EventHub, options: EventStreamOptions = {}): EventStream {
  return openWebStream(hub, options, undefined);
}

/**
 * {@link createEventStream}, keeping `retain` (the `Request` whose signal is given) alive until
 * the stream ends: a fetch `Request` follows its init signal only while it is reachable, so a
 * collected one would never report the client leaving.
 */
function openWebStream(hub: EventHub, options: EventStreamOptions, retain: object | undefined) {
  const encoder = new TextEncoder();
  const highWaterMark = options.highWaterMark ?? 65536;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let listener: SinkListener | undefined;
  let done = false;
  // Kept by the sink (so by the hub) until the stream ends.
  let retained = retain;
  const signal = options.signal;
  const onAbort = (): void => {
    sink.end();
    listener?.close();
  };
  const release = (): void => {
    if (retained !== undefined) retained = undefined;
    signal?.removeEventListener("abort", onAbort);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        listener?.drain();
      },
      cancel() {
        done = true;
        release();
        listener?.close();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  const sink: EventSink = {
    write(chunk) {
      if (done) return true;
      controller.enqueue(encoder.encode(chunk));
      return (controller.desiredSize ?? 1) > 0;
    },
    bufferedBytes() {
      return highWaterMark - (controller.desiredSize ?? highWaterMark);
    },
    end() {
      release();
      if (done) return;
      done = true;
      controller.close();
    },
    destroy() {
      release();
      if (done) return;
      done = true;
      controller.error(new Error("event stream destroyed"));
    },
    bind(l) {
      listener = l;
    },
  };
  const connection = hub.connect(sink, options);
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  return { stream, connection };
}

/**
 * Answers a fetch `Request` with an event-stream `Response`: reads `Last-Event-ID`
 * (header or `?lastEventId=`), closes the connection when the request aborts.
 */
export function createEventResponse(
  hub: EventHub,
  request: Request,
  options: Omit<EventStreamOptions, "signal" | "lastEventId"> & { headers?: HeadersInit } = {},
): { response: Response; connection: Connection } {
  const { headers, ...rest } = options;
  const streamOptions: EventStreamOptions = {
    ...rest,
    signal: request.signal,
    lastEventId: readLastEventId(request.headers.get("last-event-id"), request.url),
  };
  const { stream, connection } = openWebStream(hub, streamOptions, request);
  const responseHeaders = new Headers(headers);
  for (const [name, value] of Object.entries(eventStreamHeaders(2)))
    responseHeaders.set(name, value);
  return { response: new Response(stream, { status: 200, headers: responseHeaders }), connection };
}
