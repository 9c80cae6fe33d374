import diagnosticsChannel from "node:diagnostics_channel";
import { once } from "node:events";
import net from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createParser } from "eventsource-parser";
import { afterEach, describe, expect, it } from "vitest";
import { type Connection, EventHub, type SlowClientPolicy } from "../src/index.js";
import { openEventStream } from "../src/node/index.js";
import { readChunks, startServer, tick, until } from "./helpers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOTAL_BYTES = 50 * 1024 * 1024;
const MAX_QUEUE = 1024 * 1024;
const DATA = "x".repeat(1000);
const FRAME_BYTES = `data: ${DATA}\n\n`.length;
const EVENTS = Math.ceil(TOTAL_BYTES / FRAME_BYTES);
const BATCH = 200;
/** How long a client may hold more than MAX_QUEUE before the policy applies. */
const SLOW_MS = 50;

async function run(policy: SlowClientPolicy) {
  const hub = new EventHub({
    heartbeatMs: false,
    retry: false,
    autoGenerateId: false,
    history: false,
    maxQueueBytes: MAX_QUEUE,
    slowClientTimeoutMs: SLOW_MS,
    slowClientPolicy: policy,
  });
  cleanups.push(() => hub.close());
  const connections = new Map<string, Connection>();
  const server = await startServer((req, res) => {
    const seid = req.url === "/slow" ? "slow" : "fast";
    connections.set(seid, openEventStream(hub, req, res, { seid }));
  });
  cleanups.push(() => server.close());
  const port = Number(new URL(server.url).port);

  // The slow client: a raw TCP socket that sends the request, reads the head, then stops reading.
  const slowSocket = net.connect(port, "127.0.0.1");
  cleanups.push(() => slowSocket.destroy());
  slowSocket.write("GET /slow HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
  await once(slowSocket, "data");
  slowSocket.pause();

  // The fast client: fetch, every event counted by the spec parser.
  const controller = new AbortController();
  cleanups.push(() => controller.abort());
  const response = await fetch(`${server.url}/fast`, { signal: controller.signal });
  let fastEvents = 0;
  let wrongData = 0;
  const parser = createParser({
    onEvent: (event) => {
      fastEvents++;
      if (event.data !== DATA) wrongData++;
    },
  });
  const reading = (async () => {
    const decoder = new TextDecoder();
    await readChunks(response.body as ReadableStream<Uint8Array>, (chunk) =>
      parser.feed(decoder.decode(chunk, { stream: true })),
    );
  })().catch(() => {});

  await until(() => hub.size === 2, "both connected");
  const slow = connections.get("slow") as Connection;
  const fast = connections.get("fast") as Connection;
  gc();
  const before = process.memoryUsage();
  // Once the policy applied (the slow client was cut, or its oldest events dropped), what it
  // holds stays within the bound; before that it has SLOW_MS to drain.
  let maxSlowQueueJudged = 0;
  let maxQueuedJudged = 0;
  let peakSlowQueue = 0;
  const judged = () => slow.closed || hub.stats().eventsDropped > 0;
  for (let sent = 0; sent < EVENTS; ) {
    for (let i = 0; i < BATCH && sent < EVENTS; i++, sent++) {
      hub.broadcast({ data: DATA });
      peakSlowQueue = Math.max(peakSlowQueue, slow.queuedBytes);
      if (judged()) maxSlowQueueJudged = Math.max(maxSlowQueueJudged, slow.queuedBytes);
    }
    await tick();
    // Let the fast client keep up, as a healthy reader does, so only the slow one piles up.
    while (fast.queuedBytes > 0 && !fast.closed) await tick();
    if (judged()) maxQueuedJudged = Math.max(maxQueuedJudged, hub.stats().bytesQueued);
    // Pace the sender a little so the slow-client timer gets its turn, as in a real app.
    if (!judged()) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await until(() => fastEvents === EVENTS, `fast client got all ${EVENTS} events`, 15_000);
  gc();
  const after = process.memoryUsage();
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  console.log(
    `[slow-client ${policy}] ${EVENTS} events (${mb(EVENTS * FRAME_BYTES)}): rss ${mb(before.rss)} -> ${mb(after.rss)}, heapUsed ${mb(before.heapUsed)} -> ${mb(after.heapUsed)}`,
  );
  const bound = MAX_QUEUE + FRAME_BYTES;
  expect(judged()).toBe(true);
  // The bytes held for the stalled client were counted (in its socket, then its queue).
  expect(peakSlowQueue).toBeGreaterThan(MAX_QUEUE);
  expect(maxSlowQueueJudged).toBeLessThanOrEqual(bound);
  expect(maxQueuedJudged).toBeLessThanOrEqual(bound);
  expect(after.heapUsed - before.heapUsed).toBeLessThan(50 * 1024 * 1024);
  expect(fastEvents).toBe(EVENTS);
  expect(wrongData).toBe(0);
  expect(fast.closed).toBe(false);
  controller.abort();
  await reading;
  return { hub, slow };
}

describe("slow clients", () => {
  it('"disconnect" drops the slow client; the fast one gets every event', async () => {
    const { hub, slow } = await run("disconnect");
    expect(slow.closed).toBe(true);
    expect(slow.closeReason).toBe("slow-client");
    const stats = hub.stats();
    expect(stats.slowClientsDisconnected).toBe(1);
    expect(stats.eventsDropped).toBeGreaterThan(0);
    await until(() => hub.size === 0, "fast client gone too");
    expect(hub.stats().bytesQueued).toBe(0);
  });

  it('"drop-oldest" keeps the slow client and counts dropped events', async () => {
    const { hub, slow } = await run("drop-oldest");
    expect(slow.closed).toBe(false);
    const stats = hub.stats();
    expect(stats.slowClientsDisconnected).toBe(0);
    expect(stats.eventsDropped).toBeGreaterThan(0);
    expect(slow.queuedBytes).toBeGreaterThan(0);
    expect(slow.queuedBytes).toBeLessThanOrEqual(MAX_QUEUE);
    expect(stats.bytesQueued).toBe(slow.queuedBytes);
  });
});

describe("the slow-client bound judges readers, not bursts", () => {
  async function serveHub(hub: EventHub) {
    const connections: Connection[] = [];
    const server = await startServer((req, res) => {
      connections.push(openEventStream(hub, req, res, {}));
    });
    cleanups.push(() => server.close());
    return { server, connections, port: Number(new URL(server.url).port) };
  }

  it("one 20 MB event to clients that never read: counted, then cut", async () => {
    const hub = new EventHub({ heartbeatMs: false, retry: false, history: false });
    cleanups.push(() => hub.close());
    const { connections, port } = await serveHub(hub);
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const socket = net.connect(port, "127.0.0.1");
      cleanups.push(() => socket.destroy());
      socket.write("GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
      await once(socket, "data");
      socket.pause();
      sockets.push(socket);
    }
    await until(() => hub.size === 5, "five connected");
    const slow: unknown[] = [];
    const onSlow = (message: unknown) => {
      if ((message as { hub: unknown }).hub === hub) slow.push(message);
    };
    diagnosticsChannel.subscribe("se:slow-client", onSlow);
    cleanups.push(() => diagnosticsChannel.unsubscribe("se:slow-client", onSlow));
    hub.broadcast({ data: "y".repeat(20 * 1024 * 1024) });
    await tick();
    // Every byte held for them counts, though no queue was needed (the sink took it all).
    expect(hub.stats().bytesQueued).toBeGreaterThan(5 * 1024 * 1024);
    await until(() => connections.every((c) => c.closed), "all five cut", 10_000);
    for (const connection of connections) expect(connection.closeReason).toBe("slow-client");
    expect(hub.stats().slowClientsDisconnected).toBe(5);
    expect(slow).toHaveLength(5); // published on node:diagnostics_channel too
    expect(hub.stats().bytesQueued).toBe(0);
  });

  it("200 × 100 KB in one tick to clients reading at full speed: none is cut, all get all", async () => {
    const hub = new EventHub({ heartbeatMs: false, retry: false, history: false });
    cleanups.push(() => hub.close());
    const { server, connections } = await serveHub(hub);
    const counts: number[] = [];
    const readers: Promise<void>[] = [];
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const payload = "z".repeat(100 * 1024);
    for (let i = 0; i < 5; i++) {
      const response = await fetch(server.url, { signal: controller.signal });
      counts.push(0);
      const parser = createParser({
        onEvent: (event) => {
          if (event.data === payload) counts[i] = (counts[i] ?? 0) + 1;
        },
      });
      const decoder = new TextDecoder();
      readers.push(
        readChunks(response.body as ReadableStream<Uint8Array>, (chunk) =>
          parser.feed(decoder.decode(chunk, { stream: true })),
        ).catch(() => {}),
      );
    }
    await until(() => hub.size === 5, "five connected");
    for (let i = 0; i < 200; i++) hub.broadcast({ data: payload });
    await until(
      () => counts.every((n) => n === 200),
      `every client got all 200 (${counts}; closed: ${connections.map((c) => c.closeReason)})`,
      20_000,
    );
    expect(connections.every((c) => !c.closed)).toBe(true);
    expect(hub.stats().slowClientsDisconnected).toBe(0);
    expect(hub.stats().eventsDropped).toBe(0);
    controller.abort();
    await Promise.all(readers);
  });
});
