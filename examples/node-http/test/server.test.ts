import type { AddressInfo } from "node:net";
import { postJson } from "@se/testing";
import { nextEvent } from "@se/testing/eventsource";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { createEventServer, type EventServer } from "../src/server.js";

const users = { alice: "alice-pw", bob: "bob-pw" };
let app: EventServer | undefined;
const sources: EventSource[] = [];

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await app?.close();
  app = undefined;
});

async function start(): Promise<string> {
  app = createEventServer({ users, heartbeatMs: false });
  await new Promise<void>((resolve) => app?.server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** Logs in and returns the `Cookie` header value to send from then on. */
async function login(base: string, user: keyof typeof users): Promise<string> {
  const response = await postJson(`${base}/login`, { user, password: users[user] });
  expect(response.status).toBe(200);
  const cookie = response.headers.get("set-cookie") ?? "";
  expect(cookie).toMatch(/^se_session=[^;]+; HttpOnly; SameSite=Lax; Path=\//);
  return cookie.split(";")[0] as string;
}

/** An EventSource that sends `headers` (the session cookie, Last-Event-ID) with each connect. */
function eventSource(url: string, headers: Record<string, string>): EventSource {
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
  });
  sources.push(source);
  return source;
}

describe("node:http example", () => {
  it("streams a welcome, a direct message and a broadcast to a logged-in EventSource", async () => {
    const base = await start();
    const alice = await login(base, "alice");
    const source = eventSource(`${base}/events`, { cookie: alice });
    const welcome = await nextEvent(source, "welcome");
    expect(JSON.parse(welcome.data)).toEqual({ user: "alice" });

    const bob = await login(base, "bob");
    const direct = nextEvent(source, "message");
    const sent = await fetch(`${base}/send/alice`, {
      method: "POST",
      headers: { cookie: bob },
      body: "hi\nalice",
    });
    expect(await sent.json()).toMatchObject({ local: 1 });
    expect(JSON.parse((await direct).data)).toEqual({ from: "bob", text: "hi\nalice" });

    const broadcast = nextEvent(source, "message");
    await fetch(`${base}/broadcast`, { method: "POST", headers: { cookie: bob }, body: "all" });
    expect((await broadcast).data).toBe("all");
  });

  it("answers 401 without a session, with a forged or tampered one, and to a wrong password", async () => {
    const base = await start();
    expect((await fetch(`${base}/events?seid=alice`)).status).toBe(401);
    const alice = await login(base, "alice");
    const [user, expires, signature] = alice.slice("se_session=".length).split(".");
    const asBob = `se_session=${Buffer.from("bob").toString("base64url")}.${expires}.${signature}`;
    const later = `se_session=${user}.${Number(expires) + 1}.${signature}`;
    for (const cookie of [asBob, later, "se_session=bob", `${alice}x`]) {
      expect((await fetch(`${base}/events`, { headers: { cookie } })).status).toBe(401);
      const send = await fetch(`${base}/send/bob`, { method: "POST", headers: { cookie } });
      expect(send.status).toBe(401);
    }
    const wrong = await postJson(`${base}/login`, { user: "alice", password: "bob-pw" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(app?.hub.size).toBe(0);
  });

  it("does not let a user read another user's stream by naming it", async () => {
    const base = await start();
    const alice = await login(base, "alice");
    const bob = await login(base, "bob");
    const source = eventSource(`${base}/events?seid=bob`, { cookie: alice });
    expect(JSON.parse((await nextEvent(source, "welcome")).data)).toEqual({ user: "alice" });
    expect([...(app?.hub.clients.keys() ?? [])]).toEqual(["alice"]);
    const next = nextEvent(source, "message");
    // One connection receives in send order: had bob's message reached alice, it would be first.
    await fetch(`${base}/send/bob`, { method: "POST", headers: { cookie: bob }, body: "for bob" });
    await fetch(`${base}/send/alice`, {
      method: "POST",
      headers: { cookie: bob },
      body: "for alice",
    });
    expect(JSON.parse((await next).data)).toEqual({ from: "bob", text: "for alice" });
  });

  it("replays what a client missed when it comes back with Last-Event-ID", async () => {
    const base = await start();
    const bob = await login(base, "bob");
    const first = await fetch(`${base}/events`, { headers: { cookie: bob } });
    if (!first.body) throw new Error("no body");
    const reader = first.body.getReader();
    const welcome = new TextDecoder().decode((await reader.read()).value);
    const lastId = /id: (\d+)/.exec(welcome)?.[1] ?? "";
    expect(lastId).not.toBe("");
    await reader.cancel();
    await expect.poll(() => app?.hub.clients.has("bob")).toBe(false);

    const alice = await login(base, "alice");
    await fetch(`${base}/send/bob`, { method: "POST", headers: { cookie: alice }, body: "missed" });

    const source = eventSource(`${base}/events`, { cookie: bob, "last-event-id": lastId });
    const replayed = JSON.parse((await nextEvent(source, "message")).data);
    expect(replayed).toEqual({ from: "alice", text: "missed" });
  });

  it("removes a client when it disconnects", async () => {
    const base = await start();
    const source = eventSource(`${base}/events`, { cookie: await login(base, "alice") });
    await nextEvent(source, "welcome");
    expect(app?.hub.clients.has("alice")).toBe(true);
    source.close();
    await expect.poll(() => app?.hub.size).toBe(0);
  });
});
