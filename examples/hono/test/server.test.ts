import { nextEvent } from "@se/testing/eventsource";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "../src/server.js";

const users = { alice: "alice-pw", bob: "bob-pw" };
type Running = Awaited<ReturnType<typeof listen>>;
let running: Running | undefined;
const sources: EventSource[] = [];

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await running?.close();
  running = undefined;
});

async function start(): Promise<string> {
  running = await listen(0, { users, sessionSecret: "test secret", heartbeatMs: false });
  return `http://127.0.0.1:${running.port}`;
}

/** POSTs JSON, with the session cookie when given. */
function post(url: string, body: unknown, cookie?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (cookie !== undefined) headers.cookie = cookie;
  return fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
}

/** Logs in and returns the `Cookie` header value to send from then on. */
async function login(base: string, user: keyof typeof users): Promise<string> {
  const response = await post(`${base}/login`, { user, password: users[user] });
  expect(response.status).toBe(200);
  const cookie = response.headers.get("set-cookie") ?? "";
  expect(cookie).toMatch(/^se_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
  return cookie.split(";")[0] as string;
}

function eventSource(url: string, cookie: string): EventSource {
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, cookie } }),
  });
  sources.push(source);
  return source;
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
  it("answers with event-stream headers and streams to a logged-in EventSource", async () => {
    const base = await start();
    const source = eventSource(`${base}/events?topic=news`, await login(base, "alice"));
    const welcome = await nextEvent(source, "welcome");
    expect(JSON.parse(welcome.data)).toEqual({ user: "alice" });

    const bob = await login(base, "bob");
    const direct = nextEvent(source, "message");
    await post(`${base}/send/alice`, { text: "hi alice" }, bob);
    expect(JSON.parse((await direct).data)).toEqual({ from: "bob", message: { text: "hi alice" } });

    const news = nextEvent(source, "message");
    await post(`${base}/broadcast?topic=news`, { headline: "x" }, bob);
    expect(JSON.parse((await news).data)).toEqual({ headline: "x" });
  });

  it("sends the event-stream headers, no wildcard CORS, and a retry hint first", async () => {
    const base = await start();
    const controller = new AbortController();
    const response = await fetch(`${base}/events`, {
      signal: controller.signal,
      headers: { cookie: await login(base, "bob"), origin: "https://elsewhere.example" },
    });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const reader = readerOf(response);
    const first = new TextDecoder().decode((await reader.read()).value);
    // The default retry, 3000 ms, plus up to 50 % jitter per client.
    expect(first).toMatch(/^retry: (3\d{3}|4[0-4]\d{2}|4500)\n\n/);
    controller.abort();
  });

  it("answers 401 without a session, with a forged or expired one, and to a wrong password", async () => {
    const base = await start();
    const alice = await login(base, "alice");
    const [, signature] = decodeURIComponent(alice.slice("se_session=".length)).split(
      /\.(?=[^.]*$)/,
    );
    const forged = (value: string) => `se_session=${encodeURIComponent(`${value}.${signature}`)}`;
    expect((await fetch(`${base}/events?seid=alice`)).status).toBe(401);
    for (const cookie of [forged(`${Date.now() + 60_000}:bob`), "se_session=alice"]) {
      expect((await fetch(`${base}/events`, { headers: { cookie } })).status).toBe(401);
      expect((await post(`${base}/send/bob`, { text: "x" }, cookie)).status).toBe(401);
      expect((await post(`${base}/broadcast`, { text: "x" }, cookie)).status).toBe(401);
    }
    const wrong = await post(`${base}/login`, { user: "alice", password: "bob-pw" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(running?.hub.size).toBe(0);

    // A session past its time, signed with the right secret, is refused too.
    await running?.close();
    running = await listen(0, { users, sessionSecret: "test secret", sessionTtlMs: 1 });
    const stale = await login(`http://127.0.0.1:${running.port}`, "alice");
    await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = await fetch(`http://127.0.0.1:${running.port}/events`, {
      headers: { cookie: stale },
    });
    expect(refused.status).toBe(401);
  });

  it("does not let a user read another user's stream by naming it", async () => {
    const base = await start();
    const bob = await login(base, "bob");
    const source = eventSource(`${base}/events?seid=bob`, await login(base, "alice"));
    expect(JSON.parse((await nextEvent(source, "welcome")).data)).toEqual({ user: "alice" });
    expect([...(running?.hub.clients.keys() ?? [])]).toEqual(["alice"]);
    const next = nextEvent(source, "message");
    // One connection receives in send order: had bob's message reached alice, it would be first.
    await post(`${base}/send/bob`, { text: "for bob" }, bob);
    await post(`${base}/send/alice`, { text: "for alice" }, bob);
    expect(JSON.parse((await next).data)).toEqual({ from: "bob", message: { text: "for alice" } });
  });

  it("replays missed events on Last-Event-ID and forgets clients that leave", async () => {
    const base = await start();
    const bob = await login(base, "bob");
    const controller = new AbortController();
    const response = await fetch(`${base}/events`, {
      signal: controller.signal,
      headers: { cookie: bob },
    });
    const text = await readUntil(readerOf(response), "event: welcome");
    const lastId = /id: (\d+)/.exec(text)?.[1] as string;
    controller.abort();
    await expect.poll(() => running?.hub.clients.has("bob")).toBe(false);

    await post(`${base}/send/bob`, { text: "missed" }, await login(base, "alice"));

    const again = await fetch(`${base}/events?lastEventId=${lastId}`, { headers: { cookie: bob } });
    const replayReader = readerOf(again);
    const replayed = await readUntil(replayReader, '"message":{"text":"missed"}');
    expect(replayed).toContain("event: message");
    await replayReader.cancel();
  });
});
