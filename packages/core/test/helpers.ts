import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { Connection, EventHub, EventStreamOptions } from "../src/index.js";
import { createEventStream } from "../src/index.js";

/** What a client saw on one stream, parsed by the spec parser. */
export interface Received {
  events: EventSourceMessage[];
  comments: string[];
  retries: number[];
  text: string;
}

export function createReceived(): Received & { feed(chunk: string): void } {
  const received: Received = { events: [], comments: [], retries: [], text: "" };
  const parser = createParser({
    onEvent: (event) => received.events.push(event),
    onComment: (comment) => received.comments.push(comment),
    onRetry: (retry) => received.retries.push(retry),
  });
  return Object.assign(received, {
    feed(chunk: string) {
      received.text += chunk;
      parser.feed(chunk);
    },
  });
}

/** Waits (bounded, polling) until `condition` holds; fails with `what` otherwise. */
export async function until(condition: () => boolean, what: string, limitMs = 10_000) {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A hub connection read through a real Web stream and the spec parser. */
export interface StreamReader extends Received {
  connection: Connection;
  /** Stops reading and cancels the stream (the client goes away). */
  cancel(): Promise<void>;
  /** Resolves when the stream ends. */
  ended: Promise<void>;
}

export function readStream(hub: EventHub, options: EventStreamOptions = {}): StreamReader {
  const { stream, connection } = createEventStream(hub, options);
  const received = createReceived();
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      received.feed(decoder.decode(value, { stream: true }));
    }
  })().catch(() => {});
  return Object.assign(received, {
    connection,
    ended,
    cancel: async () => {
      await reader.cancel();
      await ended;
    },
  });
}

export interface TestServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** A real `node:http` server on 127.0.0.1:0. `close` drops open sockets too. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Reads a fetch response body as text into the spec parser until it ends or is aborted. */
export function readBody(response: Response): Received & { ended: Promise<void> } {
  const received = createReceived();
  const body = response.body;
  if (body === null) throw new Error("response has no body");
  const ended = (async () => {
    const decoder = new TextDecoder();
    await readChunks(body, (chunk) => received.feed(decoder.decode(chunk, { stream: true })));
  })().catch(() => {});
  return Object.assign(received, { ended });
}

/** Reads a Web stream to its end (or error), chunk by chunk. */
export async function readChunks(
  stream: ReadableStream<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}
