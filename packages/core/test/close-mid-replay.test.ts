import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventHub } from "../src/index.js";
import { openEventStream } from "../src/node/index.js";
import { startServer } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MISSED = 8000;

/**
 * A client reconnects far behind (8000 × 1 KB to replay) and stops reading, so its replay is
 * still running when a live event arrives and the hub ends its stream with `end`. What it then
 * reads must not hold the live event unless it also holds everything before it: else its next
 * Last-Event-ID would skip the rest of the replay.
 */
async function readAfterEnd(end: (hub: EventHub) => unknown) {
  const hub = new EventHub({
    heartbeatMs: false,
    history: { maxEvents: 20000, maxBytes: 64 * 1024 * 1024 },
  });
  const server = await startServer((req, res) => {
    openEventStream(hub, req, res, {});
  });
  cleanups.push(() => server.close());
  const first = hub.broadcast({ data: "e0" });
  const pad = "x".repeat(1000);
  for (let i = 1; i <= MISSED; i++) hub.broadcast({ data: `e${i} ${pad}` });
  const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1");
  cleanups.push(() => socket.destroy());
  let raw = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    raw += chunk;
  });
  socket.write(`GET / HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${first.id}\r\n\r\n`);
  await once(socket, "data");
  socket.pause();
  // The replay fills the socket's buffers and waits for it to drain.
  const deadline = Date.now() + 5000;
  while (
    hub.size === 0 ||
    [...hub.clients.values()][0]?.values().next().value?.replaying !== true
  ) {
    if (Date.now() > deadline) throw new Error("the replay never started");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const live = hub.broadcast({ data: "live" });
  await end(hub);
  socket.resume();
  await once(socket, "end"); // the server ended the response
  // Raw HTTP/1.1 with chunked framing: the event lines themselves are intact.
  const data = [...raw.matchAll(/^data: (e\d+|live)/gm)].map((match) => match[1]);
  const ids = [...raw.matchAll(/^id: (\S+)$/gm)].map((match) => match[1]);
  return { data, ids, liveId: live.id };
}

describe("a stream ended during its replay", () => {
  for (const [name, end] of [
    ["hub.close", (hub: EventHub) => hub.close({ graceMs: 5000 })],
    ["hub.resync", (hub: EventHub) => hub.resync()],
  ] as const) {
    it(`${name}: the client gets no live event past what it has not replayed yet`, async () => {
      const { data, ids, liveId } = await readAfterEnd(end);
      const replayed = data.filter((value) => value !== "live");
      // What it got of the replay is a prefix, in order.
      expect(replayed).toEqual(replayed.map((_, i) => `e${i + 1}`));
      expect(replayed.length).toBeLessThan(MISSED);
      expect(data).not.toContain("live");
      expect(ids).not.toContain(liveId);
    });
  }
});
