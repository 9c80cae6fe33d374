import type { AddressInfo } from "node:net";
import { postJson } from "@se/testing";
import { nextEvent } from "@se/testing/eventsource";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "../src/server.js";

type Running = Awaited<ReturnType<typeof listen>>;
let running: Running | undefined;
const sources: EventSource[] = [];

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await running?.close();
  running = undefined;
});

async function start(): Promise<string> {
  running = await listen(0, { heartbeatMs: false });
  return `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
}

describe("Express example", () => {
  it("sends JSON to one seid and to a topic, through a real EventSource", async () => {
    const base = await start();
    const source = new EventSource(`${base}/events?seid=alice&topic=news`);
    sources.push(source);
    await nextEvent(source, "welcome");

    const direct = nextEvent(source, "message");
    await postJson(`${base}/send/alice`, { text: "hi alice" });
    expect(JSON.parse((await direct).data)).toEqual({ text: "hi alice" });

    const news = nextEvent(source, "message");
    const delivery = await (
      await postJson(`${base}/broadcast?topic=news`, { headline: "x" })
    ).json();
    expect(delivery).toMatchObject({ local: 1 });
    expect(JSON.parse((await news).data)).toEqual({ headline: "x" });

    const nobody = await (await postJson(`${base}/broadcast?topic=sports`, { score: 1 })).json();
    expect(nobody).toMatchObject({ local: 0 });
  });

  it("pipes an async generator and ends the stream", async () => {
    const base = await start();
    const response = await fetch(`${base}/count?n=3`);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const body = await response.text();
    expect(
      [...body.matchAll(/event: count\nid: \d+~\d+\ndata: (\d+)\n\n/g)].map((m) => m[1]),
    ).toEqual(["1", "2", "3"]);
    expect(running?.hub.size).toBe(0);
  });
});
