import { EventSource } from "eventsource";
import { createParser } from "eventsource-parser";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";

/**
 * A Fastify app for tests. `forceCloseConnections`: the `eventsource` client opens a spare
 * socket that never sends a request, which `app.close()` would otherwise wait ~4 s for.
 * Tests of shutdown itself use a plain `Fastify()`.
 */
export function testApp(options: FastifyServerOptions = {}): FastifyInstance {
  return Fastify({ forceCloseConnections: true, ...options });
}

/** Starts `app` on 127.0.0.1:0 and returns its base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return `http://127.0.0.1:${address.port}`;
}

/** A received event, as the `eventsource` client reports it. */
export interface Received {
  type: string;
  data: string;
  lastEventId: string;
}

/** An `eventsource` client that records every event of the given types. */
export function record(
  url: string,
  types: string[] = ["message"],
  init?: { headers?: Record<string, string> },
) {
  const events: Received[] = [];
  const source = new EventSource(
    url,
    init?.headers
      ? {
          fetch: (input, options) =>
            fetch(input, {
              ...options,
              headers: { ...(options?.headers as Record<string, string>), ...init.headers },
            }),
        }
      : undefined,
  );
  for (const type of types) {
    source.addEventListener(type, (event) => {
      events.push({ type, data: event.data, lastEventId: event.lastEventId });
    });
  }
  const opened = new Promise<void>((resolve, reject) => {
    source.onopen = () => resolve();
    source.onerror = (error) => {
      if (source.readyState === EventSource.CLOSED) reject(error);
    };
  });
  return { source, events, opened };
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One event as the spec parser (`eventsource-parser`) reads it off the wire. */
export interface ParsedEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

/**
 * A stream read with `fetch` and `eventsource-parser`: the test controls `Last-Event-ID` and
 * when the stream is cut. `lastId` is the id a browser would send back.
 */
export async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: ParsedEvent[] = [];
  let lastId: string | undefined;
  const parser = createParser({
    onEvent: (event) => {
      if (event.id !== undefined) lastId = event.id;
      events.push({ event: event.event, data: event.data, id: event.id });
    },
  });
  const body = response.body;
  const ended = (async () => {
    if (body === null) return;
    const reader = body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  })().catch(() => {});
  return {
    response,
    events,
    get lastId() {
      return lastId;
    },
    /** Data of the events of type `message`. */
    get data() {
      return events.filter((e) => e.event === undefined).map((e) => e.data);
    },
    async close() {
      controller.abort();
      await ended;
    },
    ended,
  };
}
