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
  return `http://127.0.0.1:${running.port}`;
}

function readerOf(response: Response): ReadableStreamDefaultReader<Uint8Array> {
  if (!response.body) throw new Error(`no body (status ${response.status})`);
  return response.body.getReader();
}

/** Reads a stream until `text` appears; fails if the stream ends first. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string) {
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes(text)) {
    const { done, value } = await reader.read();
    if (done)
      throw new Error(`stream ended before ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`);
    seen += decoder.decode(value, { stream: true });
  }
  return seen;
}

describe("Hono example (Web Response stream)", () => {
  it("answers with event-stream headers and streams to an EventSource", async () => {
    const base = await start();
    const source = new EventSource(`${base}/events?seid=alice&topic=news`);
    sources.push(source);
    const welcome = await nextEvent(source, "welcome");
    expect(JSON.parse(welcome.data)).toEqual({ seid: "alice" });

    const direct = nextEvent(source, "message");
    await postJson(`${base}/send/alice`, { text: "hi alice" });
    expect(JSON.parse((await direct).data)).toEqual({ text: "hi alice" });

    const news = nextEvent(source, "message");
    await postJson(`${base}/broadcast?topic=news`, { headline: "x" });
    expect(JSON.parse((await news).data)).toEqual({ headline: "x" });
  });

  it("sends the event-stream headers and a retry hint first", async () => {
    const base = await start();
    const controller = new AbortController();
    const response = await fetch(`${base}/events?seid=bob`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const reader = readerOf(response);
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^retry: 3000\n\n/);
    controller.abort();
  });

  it("replays missed events on Last-Event-ID and forgets clients that leave", async () => {
    const base = await start();
    const controller = new AbortController();
    const response = await fetch(`${base}/events?seid=carol`, { signal: controller.signal });
    const text = await readUntil(readerOf(response), "event: welcome");
    const lastId = /id: (\d+)/.exec(text)?.[1] as string;
    controller.abort();
    await expect.poll(() => running?.hub.clients.has("carol")).toBe(false);

    await postJson(`${base}/send/carol`, { text: "missed" });

    const again = await fetch(`${base}/events?seid=carol&lastEventId=${lastId}`);
    const replayReader = readerOf(again);
    const replayed = await readUntil(replayReader, 'data: {"text":"missed"}');
    expect(replayed).toContain("event: message");
    await replayReader.cancel();
  });
});
