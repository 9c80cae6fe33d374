import type { ServerResponse } from "node:http";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { EventHub } from "../src/index.js";
import { openEventStream } from "../src/node/index.js";
import { startServer, until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("server-forced disconnects", () => {
  it("the eventsource client reconnects with Last-Event-ID and gets every event once, in order", async () => {
    const hub = new EventHub({ retry: 50, heartbeatMs: false });
    cleanups.push(() => hub.close());
    const responses: ServerResponse[] = [];
    const lastEventIds: Array<string | undefined> = [];
    const server = await startServer((req, res) => {
      lastEventIds.push(req.headers["last-event-id"] as string | undefined);
      responses.push(res);
      openEventStream(hub, req, res, { seid: "reader" });
    });
    cleanups.push(() => server.close());
    const source = new EventSource(server.url);
    cleanups.push(() => source.close());
    const got: Array<{ data: string; id: string }> = [];
    source.onmessage = (event) => got.push({ data: event.data, id: event.lastEventId });
    await until(() => hub.size === 1, "first connection");
    const sent: Array<{ data: string; id: string }> = [];
    for (let i = 0; i < 200; i++) {
      const data = `event ${i}\nline two`;
      const target = i % 3 === 0 ? hub.send("reader", { data }) : hub.broadcast({ data });
      sent.push({ data, id: target.id as string });
      if (i % 50 === 25) {
        // Let some events reach the socket, then cut it from the server side; the next
        // events are sent while the client is away.
        await new Promise((resolve) => setTimeout(resolve, 5));
        responses.at(-1)?.destroy();
      }
      if (i % 50 === 49) {
        const expected = (i + 1) / 50 + 1;
        await until(() => responses.length === expected && hub.size === 1, "reconnected");
      }
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => got.length >= 200, "all 200 events");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(got).toEqual(sent);
    expect(responses.length).toBe(5);
    expect(lastEventIds[0]).toBeUndefined();
    for (const id of lastEventIds.slice(1)) expect(sent.map((s) => s.id)).toContain(id);
    expect(hub.stats().resets).toBe(0);
  });
});
