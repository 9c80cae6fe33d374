import type { AddressInfo } from "node:net";
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
  running = await listen(0, { users, heartbeatMs: false });
  return `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
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
  expect(cookie).toMatch(/^se_session=[^;]+; HttpOnly; SameSite=Lax; Path=\//);
  return cookie.split(";")[0] as string;
}

function eventSource(url: string, cookie: string): EventSource {
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, cookie } }),
  });
  sources.push(source);
  return source;
}

describe("Express example", () => {
  it("sends JSON to one user and to a topic, through a real EventSource", async () => {
    const base = await start();
    const source = eventSource(`${base}/events?topic=news`, await login(base, "alice"));
    expect(JSON.parse((await nextEvent(source, "welcome")).data)).toEqual({ user: "alice" });

    const bob = await login(base, "bob");
    const direct = nextEvent(source, "message");
    await post(`${base}/send/alice`, { text: "hi alice" }, bob);
    expect(JSON.parse((await direct).data)).toEqual({ from: "bob", message: { text: "hi alice" } });

    const news = nextEvent(source, "message");
    const delivery = await (
      await post(`${base}/broadcast?topic=news`, { headline: "x" }, bob)
    ).json();
    expect(delivery).toMatchObject({ local: 1 });
    expect(JSON.parse((await news).data)).toEqual({ headline: "x" });

    const nobody = await (await post(`${base}/broadcast?topic=sports`, { score: 1 }, bob)).json();
    expect(nobody).toMatchObject({ local: 0 });
  });

  it("answers 401 without a session, with a forged one, and to a wrong password", async () => {
    const base = await start();
    const alice = await login(base, "alice");
    const [, expires, signature] = alice.slice("se_session=".length).split(".");
    const asBob = `se_session=${Buffer.from("bob").toString("base64url")}.${expires}.${signature}`;
    expect((await fetch(`${base}/events?seid=alice`)).status).toBe(401);
    for (const cookie of [asBob, "se_session=alice"]) {
      expect((await fetch(`${base}/events`, { headers: { cookie } })).status).toBe(401);
      expect((await post(`${base}/send/bob`, { text: "x" }, cookie)).status).toBe(401);
      expect((await post(`${base}/broadcast`, { text: "x" }, cookie)).status).toBe(401);
    }
    const wrong = await post(`${base}/login`, { user: "alice", password: "bob-pw" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(running?.hub.size).toBe(0);
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
