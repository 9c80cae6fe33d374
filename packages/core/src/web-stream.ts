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
  const encoder = new TextEncoder();
  const highWaterMark = options.highWaterMark ?? 65536;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let listener: SinkListener | undefined;
  let done = false;
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
      if (done) return;
      done = true;
      controller.close();
    },
    destroy() {
      if (done) return;
      done = true;
      controller.error(new Error("event stream destroyed"));
    },
    bind(l) {
      listener = l;
    },
  };
  const connection = hub.connect(sink, options);
  const signal = options.signal;
  if (signal) {
    const onAbort = () => {
      sink.end();
      listener?.close();
    };
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
  const { stream, connection } = createEventStream(hub, {
    ...rest,
    signal: request.signal,
    lastEventId: readLastEventId(request.headers.get("last-event-id"), request.url),
  });
  const responseHeaders = new Headers(headers);
  for (const [name, value] of Object.entries(eventStreamHeaders(2)))
    responseHeaders.set(name, value);
  return { response: new Response(stream, { status: 200, headers: responseHeaders }), connection };
}
