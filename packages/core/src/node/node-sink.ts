import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { Connection } from "../connection.js";
import type { ConnectOptions, EventHub } from "../event-hub.js";
import type { EventSink, SinkListener } from "../event-sink.js";
import { eventStreamHeaders, readLastEventId } from "../event-stream-headers.js";

/** A `node:http` or `node:http2` compatibility response. */
export type NodeResponse = ServerResponse | Http2ServerResponse;
/** A `node:http` or `node:http2` compatibility request. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;

/**
 * A response whose headers are already sent, as an {@link EventSink}. A class (methods on the
 * prototype) rather than an object of closures: one small object per idle connection.
 */
class NodeSink implements EventSink {
  readonly #response: ServerResponse;
  /** Something was written (the head went with it). */
  wrote = false;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  write(chunk: string): boolean {
    this.wrote = true;
    return this.#response.write(chunk);
  }

  end(): void {
    if (!this.#response.writableEnded) this.#response.end();
  }

  bufferedBytes(): number {
    return this.#response.writableLength;
  }

  destroy(): void {
    // A response that finished may share its socket with the next request (keep-alive).
    if (!this.#response.writableFinished) this.#response.destroy();
  }

  bind(listener: SinkListener): void {
    const response = this.#response;
    response.on("drain", listener.drain);
    // `on`, not `once`: a response closes once, and `once` adds a wrapper per connection.
    response.on("close", () => {
      // The client left mid-stream: free the socket now rather than at its idle timeout.
      if (!response.writableFinished) response.destroy();
      listener.close();
    });
    response.on("error", listener.close);
    if (response.destroyed) queueMicrotask(listener.close);
  }
}

/**
 * Wraps a response whose headers are already sent as an {@link EventSink}: writes go
 * straight to the socket, `drain` and `close` are reported to the connection.
 */
export function createNodeSink(res: NodeResponse): EventSink {
  return new NodeSink(res as ServerResponse);
}

/**
 * An {@link EventSink} that writes into `body` (a `PassThrough` or any transform you
 * choose) piped to the response. Backpressure follows `body`; the client leaving
 * (the response closing) destroys `body`.
 */
export function createPipedSink(body: Duplex, res: NodeResponse): EventSink {
  const response = res as ServerResponse;
  body.pipe(response);
  return {
    write: (chunk) => body.write(chunk),
    bufferedBytes: () => body.writableLength + response.writableLength,
    end: () => {
      if (!body.writableEnded) body.end();
    },
    destroy: () => {
      body.destroy();
      if (!response.writableFinished) response.destroy();
    },
    bind(listener) {
      body.on("drain", listener.drain);
      body.on("error", () => response.destroy());
      response.once("close", () => {
        body.destroy();
        if (!response.writableFinished) response.destroy();
        listener.close();
      });
      response.on("error", listener.close);
      if (response.destroyed) queueMicrotask(listener.close);
    },
  };
}

/** Options for {@link openEventStream}. */
export interface OpenEventStreamOptions extends Omit<ConnectOptions, "lastEventId"> {
  /** Extra response headers (e.g. CORS). The event-stream headers win on conflict. */
  headers?: Record<string, string | number | readonly string[]>;
  /** A stream to write events into, piped to the response (e.g. a `PassThrough`). @default none: writes go straight to the response */
  body?: Duplex;
}

/**
 * Starts an event stream on a `node:http` (or `node:http2` compat) response: reads
 * `Last-Event-ID` (header or `?lastEventId=`), checks the seid, topics and id (throwing before
 * any header is sent), sends the headers at once and connects to the hub.
 * The connection leaves the hub by itself when the client goes away.
 *
 * @example
 * http.createServer((req, res) => {
 *   const connection = openEventStream(hub, req, res, { seid: "alice" });
 *   connection.send({ data: "welcome" });
 * });
 */
export function openEventStream(
  hub: EventHub,
  req: NodeRequest,
  res: NodeResponse,
  options: OpenEventStreamOptions = {},
): Connection {
  const { headers, body, ...rest } = options;
  const connectOptions: ConnectOptions = {
    ...rest,
    lastEventId: readLastEventId(req.headers["last-event-id"], req.url),
  };
  // Validation first, then headers: bad input throws here, before anything is sent.
  hub.checkConnect(connectOptions);
  const response = res as ServerResponse;
  // One writeHead with every header: no per-response header map is kept (less idle memory).
  const head: Record<string, string | number | readonly string[]> = {};
  if (headers)
    for (const [name, value] of Object.entries(headers)) head[name.toLowerCase()] = value;
  Object.assign(head, eventStreamHeaders(req.httpVersionMajor));
  // HTTP/1.0 (nginx's default to upstreams): no chunked encoding, the body ends when the
  // connection closes, so keep-alive would be a false promise.
  if (req.httpVersion === "1.0") delete head.connection;
  response.writeHead(200, head as Record<string, string | number | string[]>);
  req.socket?.setNoDelay?.(true);
  const direct = body ? undefined : new NodeSink(response);
  // Piped: the body's writes reach the response later; send the head now.
  if (direct === undefined) response.flushHeaders();
  const sink = direct ?? createPipedSink(body as Duplex, res);
  let connection: Connection;
  try {
    connection = hub.connect(sink, connectOptions);
  } catch (error) {
    sink.destroy();
    throw error;
  }
  // The head leaves with the first write (`retry`, a welcome: flushed at the end of this task),
  // one syscall instead of two per connect; a stream with nothing to write gets it sent alone.
  if (direct !== undefined) {
    queueMicrotask(() => {
      if (!direct.wrote && !response.destroyed) response.flushHeaders();
    });
  }
  return connection;
}
