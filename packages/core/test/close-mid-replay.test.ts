import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventHub } from "../src/index.js";
import { openEventStream } from "../src/node/index.js";
import { createReceived, startServer, until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scenario(end: (hub: EventHub) => unknown) {
  const hub = new EventHub({
    heartbeatMs: false,
    history: { maxEvents: 20000, maxBytes: 64 * 1024 * 1024 },
  });
  const server = await startServer((req, res) => {
    openEventStream(hub, req, res, {});
  });
  cleanups.push(() => server.close());
  const first = hub.broadcast({ data: "e0" });
  const N = 8000;
  const pad = "x".repeat(1000);
  for (let i = 1; i <= N; i++) hub.broadcast({ data: `e${i} ${pad}` });
  const port = Number(new URL(server.url).port);
  const socket = net.connect(port, "127.0.0.1");
  cleanups.push(() => socket.destroy());
  socket.write(`GET / HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${first.id}\r\n\r\n`);
  await once(socket, "data");
  socket.pause();
  await new Promise((r) => setTimeout(r, 200));
  const conn = [...hub.clients.values()][0]?.values().next().value;
  console.log("replaying:", conn?.replaying, "queued", conn?.queuedBytes);
  hub.broadcast({ data: "live1" });
  await end(hub);
  const got = createReceived();
  let raw = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    raw += chunk;
  });
  socket.resume();
  await new Promise((r) => setTimeout(r, 1500));
  // strip HTTP chunked framing crudely: parse events by regex on data lines
  const datas = [...raw.matchAll(/data: (e\d+|live1)/g)].map((m) => m[1]);
  const ids = [...raw.matchAll(/id: (\S+)/g)].map((m) => m[1]);
  console.log(
    "events got",
    datas.length,
    "first",
    datas.slice(0, 2),
    "last",
    datas.slice(-3),
    "last id",
    ids.at(-1),
  );
  const hasLive = datas.includes("live1");
  const replayed = datas.filter((d) => d !== "live1").length;
  return { hasLive, replayed, N };
}

describe("close during a replay", () => {
  it("hub.close", async () => {
    const r = await scenario((hub) => hub.close({ graceMs: 5000 }));
    console.log(r);
    expect(r.hasLive && r.replayed < r.N).toBe(false);
  });
  it("hub.resync", async () => {
    const r = await scenario((hub) => hub.resync());
    console.log(r);
    expect(r.hasLive && r.replayed < r.N).toBe(false);
  });
});
