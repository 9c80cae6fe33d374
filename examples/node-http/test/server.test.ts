import type { AddressInfo } from "node:net";
import { nextEvent } from "@se/testing/eventsource";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { createEventServer, type EventServer } from "../src/server.js";

let app: EventServer | undefined;
const sources: EventSource[] = [];

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await app?.close();
  app = undefined;
});

async function start(): Promise<string> {
  app = createEventServer({ heartbeatMs: false });
  await new Promise<void>((resolve) => app?.server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe("node:http example", () => {
  it("streams a welcome, a direct message and a broadcast to an EventSource", async () => {
    const base = await start();
    const source = new EventSource(`${base}/events?seid=alice`);
    sources.push(source);
    const welcome = await nextEvent(source, "welcome");
    expect(JSON.parse(welcome.data)).toEqual({ seid: "alice" });

    const direct = nextEvent(source, "message");
    const sent = await fetch(`${base}/send/alice`, { method: "POST", body: "hi\nalice" });
    expect(await sent.json()).toMatchObject({ local: 1 });
    expect((await direct).data).toBe("hi\nalice");

    const broadcast = nextEvent(source, "message");
    await fetch(`${base}/broadcast`, { method: "POST", body: "to everyone" });
    expect((await broadcast).data).toBe("to everyone");
  });

  it("replays what a client missed when it comes back with Last-Event-ID", async () => {
    const base = await start();
    const first = await fetch(`${base}/events?seid=bob`);
    if (!first.body) throw new Error("no body");
    const reader = first.body.getReader();
    const welcome = new TextDecoder().decode((await reader.read()).value);
    const lastId = /id: (\d+)/.exec(welcome)?.[1] ?? "";
    expect(lastId).not.toBe("");
    await reader.cancel();
    await expect.poll(() => app?.hub.clients.has("bob")).toBe(false);

    await fetch(`${base}/send/bob`, { method: "POST", body: "while you were away" });

    const source = new EventSource(`${base}/events?seid=bob`, {
      fetch: (url, init) =>
        fetch(url, { ...init, headers: { ...init?.headers, "last-event-id": lastId } }),
    });
    sources.push(source);
    expect((await nextEvent(source, "message")).data).toBe("while you were away");
  });

  it("removes a client when it disconnects", async () => {
    const base = await start();
    const source = new EventSource(`${base}/events?seid=carol`);
    await nextEvent(source, "welcome");
    expect(app?.hub.clients.has("carol")).toBe(true);
    source.close();
    await expect.poll(() => app?.hub.size).toBe(0);
  });
});
