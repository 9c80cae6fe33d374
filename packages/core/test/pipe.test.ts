import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { type Connection, createEventStream, EventHub } from "../src/index.js";
import { openEventStream } from "../src/node/index.js";
import { readBody, startServer, until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function makeHub(): EventHub {
  const hub = new EventHub({ heartbeatMs: false, retry: false, autoGenerateId: false });
  cleanups.push(() => hub.close());
  return hub;
}

/** A node:http server whose handler pipes `source()` into each new connection. */
async function servePipe(hub: EventHub, source: () => AsyncIterable<unknown>) {
  const piped: Array<{ connection: Connection; done: Promise<void> }> = [];
  const server = await startServer((req, res) => {
    const connection = openEventStream(hub, req, res);
    piped.push({ connection, done: connection.pipe(source()) });
  });
  cleanups.push(() => server.close());
  return { server, piped };
}

describe("connection.pipe", () => {
  it("sends every item, then resolves when the source is done", async () => {
    const hub = makeHub();
    async function* items() {
      yield "a";
      yield { b: 1 };
      yield "c\nd";
    }
    const { server, piped } = await servePipe(hub, items);
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const body = readBody(await fetch(server.url, { signal: controller.signal }));
    await until(() => piped.length === 1, "piping");
    await piped[0]?.done;
    await until(() => body.events.length === 3, "three events");
    expect(body.text).toBe('data: a\n\ndata: {"b":1}\n\ndata: c\ndata: d\n\n');
    expect(piped[0]?.connection.closed).toBe(false);
  });

  it("uses map to build messages", async () => {
    const hub = makeHub();
    const { stream, connection } = createEventStream(hub);
    const body = readBody(new Response(stream));
    async function* numbers() {
      yield 1;
      yield 2;
    }
    await connection.pipe(numbers(), { map: (n) => ({ event: "n", id: n, data: n * 10 }) });
    connection.close();
    await body.ended;
    expect(body.text).toBe("event: n\nid: 1\ndata: 10\n\nevent: n\nid: 2\ndata: 20\n\n");
  });

  it("runs the generator's finally when the client disconnects", async () => {
    const hub = makeHub();
    let finallyRan = false;
    let produced = 0;
    async function* ticker() {
      try {
        for (;;) {
          yield `tick ${produced++}`;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        finallyRan = true;
      }
    }
    const { server, piped } = await servePipe(hub, ticker);
    const controller = new AbortController();
    const body = readBody(await fetch(server.url, { signal: controller.signal }));
    await until(() => body.events.length >= 3, "some ticks");
    controller.abort();
    await until(() => piped.length === 1 && piped[0]?.connection.closed === true, "closed");
    await piped[0]?.done;
    await until(() => finallyRan, "generator finally");
    expect(hub.size).toBe(0);
  });

  it("destroys a piped Node Readable when the client disconnects, even while it is idle", async () => {
    const hub = makeHub();
    const readables: Readable[] = [];
    const { server, piped } = await servePipe(hub, () => {
      const readable = new Readable({ objectMode: true, read() {} });
      readable.push("first");
      readables.push(readable);
      return readable;
    });
    const controller = new AbortController();
    const body = readBody(await fetch(server.url, { signal: controller.signal }));
    await until(() => body.events.length === 1, "first item");
    expect(body.events[0]?.data).toBe("first");
    controller.abort();
    await until(() => readables[0]?.destroyed === true, "readable destroyed");
    await piped[0]?.done;
    expect(hub.size).toBe(0);
  });

  it("waits for drain: a client that does not read stops the producer", async () => {
    const hub = makeHub();
    const { stream, connection } = createEventStream(hub, { highWaterMark: 1024 });
    let pulled = 0;
    const total = 2_000;
    async function* many() {
      for (let i = 0; i < total; i++) {
        pulled++;
        yield `item ${i} ${"x".repeat(100)}`;
      }
    }
    const done = connection.pipe(many());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pausedAt = pulled;
    expect(pausedAt).toBeLessThan(100);
    // Held for the client: what the stream buffered (its highWaterMark, 1024) plus at most the
    // chunk that filled it (the events sent before the deferred flush reported it full).
    expect(connection.queuedBytes).toBeLessThanOrEqual(1024 + 2 * 120);
    const body = readBody(new Response(stream));
    await done;
    expect(pulled).toBe(total);
    connection.close();
    await body.ended;
    expect(body.events).toHaveLength(total);
    expect(body.events.at(-1)?.data).toBe(`item ${total - 1} ${"x".repeat(100)}`);
  });

  it("stops at once on a closed connection and calls return()", async () => {
    const hub = makeHub();
    const { connection } = createEventStream(hub);
    connection.close();
    let returned = false;
    const source: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: "x" }),
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    await connection.pipe(source);
    expect(returned).toBe(true);
  });
});
