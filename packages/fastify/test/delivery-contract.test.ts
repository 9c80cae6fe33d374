import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE } from "../src/index.js";
import { listen, openStream, testApp, until } from "./helpers.js";

/**
 * The holes of the delivery contract (docs/delivery.md) found on ordinary paths, each checked
 * end to end on real sockets with default options unless the case needs one.
 */
describe("delivery contract through Fastify (in memory)", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("topics a handler subscribes are replayed after a reconnect (subscribe and open({ topics }))", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    app.get("/news", (_request, reply) => {
      reply.sse.subscribe("news");
    });
    app.get("/sports", (_request, reply) => {
      reply.sse.open({ topics: ["sports"] });
    });
    const base = await listen(app);
    for (const [path, topic] of [
      ["/news", "news"],
      ["/sports", "sports"],
    ] as const) {
      const first = await openStream(`${base}${path}`);
      await until(() => se.hub.size === 1, "connected");
      app.se.broadcast({ data: `${topic} 1` }, { topic });
      await until(() => first.data.length === 1, "first topic event");
      const lastId = first.lastId as string;
      await first.close();
      await until(() => se.hub.size === 0, "gone");
      app.se.broadcast({ data: `${topic} 2` }, { topic });
      app.se.broadcast({ data: `${topic} 3` }, { topic });
      const again = await openStream(`${base}${path}`, { "last-event-id": lastId });
      await until(() => again.data.length === 2, `${topic} 2 and 3 replayed`);
      expect(again.data).toEqual([`${topic} 2`, `${topic} 3`]);
      app.se.broadcast({ data: `${topic} 4` }, { topic });
      await until(() => again.data.length === 3, "live after the replay");
      expect(again.data).toEqual([`${topic} 2`, `${topic} 3`, `${topic} 4`]);
      await again.close();
      await until(() => se.hub.size === 0, "gone");
    }
  });

  it("per-connection sends and resets take no history slots; their ids resume the replay", async () => {
    app = testApp();
    const se = new SE({ history: { maxEvents: 20 } });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.send({ event: "welcome", data: "hi" });
    });
    app.get("/hello", (_request, reply) => {
      reply.sse.send({ data: "per-connection" });
    });
    const base = await listen(app);
    const keeper = await openStream(`${base}/events`);
    await until(() => keeper.events.length === 1, "welcome");
    const ids = Array.from({ length: 5 }, (_, n) => app.se.broadcast({ data: `b${n}` }).id);
    await until(() => keeper.data.length === 5, "five broadcasts");
    // 40 connects, each with a welcome, and 40 stale reconnects, each with a reset.
    for (let i = 0; i < 40; i++) {
      const visitor = await openStream(`${base}/events`);
      const stale = await openStream(`${base}/events`, { "last-event-id": `gone-${i}` });
      await until(() => visitor.events.length === 1 && stale.events.length === 2, "welcome+reset");
      await visitor.close();
      await stale.close();
    }
    const back = await openStream(`${base}/events`, { "last-event-id": ids[1] as string });
    await until(() => back.data.length === 3, "b2..b4 replayed");
    expect(back.data).toEqual(["b2", "b3", "b4"]);
    expect(back.events.some((e) => e.event === "se-reset")).toBe(false);

    // A stream whose last event is a per-connection one: its id still resumes after b4.
    const hello = await openStream(`${base}/hello`);
    await until(() => hello.events.length === 1, "per-connection event");
    const ownId = hello.lastId as string;
    await hello.close();
    app.se.broadcast({ data: "b5" });
    const resumed = await openStream(`${base}/events`, { "last-event-id": ownId });
    await until(() => resumed.data.includes("b5"), "b5 replayed after a per-connection id");
    expect(resumed.events.map((e) => e.event ?? e.data)).toEqual(["welcome", "b5"]);
    await Promise.all([keeper.close(), back.close(), resumed.close()]);
  });

  it("a history that throws, rejects or hangs gives the reset, then live events", async () => {
    for (const since of [
      () => {
        throw new Error("broken store");
      },
      () => Promise.reject(new Error("store down")),
      () => new Promise<never>(() => {}),
    ]) {
      app = testApp();
      const se = new SE({ history: { append: () => {}, since }, historyTimeoutMs: 200 });
      const errors: unknown[] = [];
      await app.register(se.plugin);
      se.hub.on("error", (error) => errors.push(error));
      app.get("/events", (_request, reply) => {
        reply.sse.open();
      });
      const base = await listen(app);
      const client = await openStream(`${base}/events`, { "last-event-id": "123" });
      await until(() => client.events.length === 1, "the reset");
      expect(client.events[0]?.event).toBe("se-reset");
      expect(JSON.parse(client.events[0]?.data ?? "{}")).toEqual({
        reason: "history-unavailable",
        lastEventId: "123",
      });
      app.se.broadcast({ data: "live" });
      await until(() => client.data.length === 1, "live after the reset");
      expect(errors).toHaveLength(1);
      await client.close();
      await app.close();
    }
    app = testApp(); // for afterEach
  });

  it("a replay larger than maxQueueBytes reaches a reader that keeps up, whole (both policies)", async () => {
    for (const slowClientPolicy of ["disconnect", "drop-oldest"] as const) {
      app = testApp();
      const se = new SE({ slowClientPolicy, history: { maxBytes: 32 * 1024 * 1024 } });
      await app.register(se.plugin);
      app.get("/events", (_request, reply) => {
        reply.sse.open();
      });
      const base = await listen(app);
      const first = app.se.broadcast({ data: "start" }).id as string;
      const payload = "p".repeat(64 * 1024);
      const count = 200; // 12.8 MiB, over 12 × maxQueueBytes (1 MiB)
      for (let i = 0; i < count; i++) app.se.broadcast({ data: `${i} ${payload}` });
      const client = await openStream(`${base}/events`, { "last-event-id": first });
      await until(() => client.data.length === count, `all ${count} replayed`, 30_000);
      expect(client.data.map((d) => Number(d.split(" ")[0]))).toEqual(
        Array.from({ length: count }, (_, i) => i),
      );
      expect(se.stats().slowClientsDisconnected).toBe(0);
      expect(se.stats().eventsDropped).toBe(0);
      await client.close();
      await app.close();
    }
    app = testApp();
  });

  it("a Last-Event-ID that cannot be ours, or a seid or topic past the limits, gets a 400 that does not echo it", async () => {
    app = testApp();
    const se = new SE({ seidGenerator: (request) => String(request.headers["x-user"] ?? "anon") });
    await app.register(se.plugin);
    app.get("/events", (request, reply) => {
      const topic = (request.query as { topic?: string }).topic;
      if (topic) reply.sse.subscribe(topic);
      else reply.sse.open();
    });
    const base = await listen(app);
    const long = "L".repeat(600);
    const cases: Array<[string, Record<string, string>]> = [
      ["/events", { "last-event-id": long }],
      [`/events?lastEventId=${long}`, {}],
      [`/events?lastEventId=${encodeURIComponent("u-漢字-2")}`, {}],
      ["/events", { "x-user": "u".repeat(300) }],
      [`/events?topic=${"t".repeat(300)}`, {}],
    ];
    for (const [path, headers] of cases) {
      const response = await fetch(`${base}${path}`, { headers });
      expect(response.status, path).toBe(400);
      const body = (await response.json()) as { code: string; message: string };
      expect(body.code).toBe("FST_ERR_SE_BAD_REQUEST");
      expect(body.message).not.toContain("LLLLLLLLLL");
      expect(body.message).not.toContain("uuuuuuuuuu");
      expect(body.message).not.toContain("tttttttttt");
    }
    expect(se.hub.size).toBe(0);
  });

  it("a non-ASCII id is refused up front, so every id a client holds round-trips", async () => {
    app = testApp();
    await app.register(new SE().plugin);
    expect(() => app.se.broadcast({ id: "u-漢字-2", data: "x" })).toThrowError(
      expect.objectContaining({ code: "SE_ERR_INVALID_FIELD", field: "id" }),
    );
  });
});
