import net from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SE } from "../src/index.js";
import { listen, openStream, record, testApp, until } from "./helpers.js";

declare module "fastify" {
  interface FastifyRequest {
    user?: { id: string };
  }
}

describe("running in production (issue 13, first part)", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    vi.restoreAllMocks();
    await app.close();
  });

  it("a seidGenerator that reads the user set by the SSE route's auth hook: public GET routes and the SSE route both work", async () => {
    app = testApp();
    let generated = 0;
    const se = new SE({
      seidGenerator: (request) => {
        generated++;
        return (request.user as { id: string }).id;
      },
    });
    await app.register(se.plugin);
    app.get("/health", async () => ({ ok: true }));
    app.get("/public", async (request) => ({ seid: request.method }));
    app.get(
      "/events",
      {
        onRequest: async (request, reply) => {
          const token = request.headers.authorization;
          if (token !== "Bearer alice") return reply.code(401).send({ error: "unauthorized" });
          request.user = { id: "alice" };
        },
      },
      (request, reply) => {
        reply.sse.send({ data: String(request.seid) });
      },
    );
    const base = await listen(app);
    for (const path of ["/health", "/public"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
    }
    expect((await fetch(`${base}/events`)).status).toBe(401);
    const stream = await openStream(`${base}/events`, { authorization: "Bearer alice" });
    expect(stream.response.status).toBe(200);
    await until(() => stream.data.length === 1, "the welcome");
    expect(stream.data).toEqual(["alice"]);
    expect([...se.clients.keys()]).toEqual(["alice"]);
    // Only the SSE route ran the generator (after its auth hook).
    expect(generated).toBe(1);
    await stream.close();
  });

  it("a route that reads request.seid while its generator fails answers 500; other routes are untouched", async () => {
    app = testApp();
    const se = new SE({
      seidGenerator: () => {
        throw new Error("no user");
      },
    });
    await app.register(se.plugin);
    app.get("/public", async () => "fine");
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    expect((await fetch(`${base}/public`)).status).toBe(200);
    expect((await fetch(`${base}/events`)).status).toBe(500);
    expect(se.hub.size).toBe(0);
  });

  it("a stalled reader does not hold up fastify.close(): it is torn down after closeGraceMs", async () => {
    app = Fastify(); // no forceCloseConnections: the grace period is what lets it close
    const se = new SE({ closeGraceMs: 200, retry: false, heartbeatMs: false });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    const { port } = new URL(base);
    const socket = net.connect(Number(port), "127.0.0.1");
    socket.write("GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    await new Promise((resolve) => socket.once("data", resolve));
    socket.pause(); // stops reading: its socket fills up and never takes the end of the stream
    await until(() => se.hub.size === 1, "connected");
    for (let i = 0; i < 200; i++) app.se.broadcast({ data: "z".repeat(64 * 1024) });
    const closed = app.close().then(() => "closed");
    const outcome = await Promise.race([
      closed,
      new Promise((resolve) => setTimeout(() => resolve("still open"), 10_000)),
    ]);
    expect(outcome).toBe("closed");
    socket.destroy();
    app = testApp(); // for afterEach
  });

  it("with Fastify's default (no logger), hub errors reach the console", async () => {
    app = Fastify();
    const se = new SE();
    await app.register(se.plugin);
    await app.ready();
    const logged: unknown[][] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    se.hub.reportError(new Error("redis down"));
    expect(logged).toHaveLength(1);
    expect(String(logged[0]?.[1])).toContain("redis down");
  });
});

describe("connection caps", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("past maxConnectionsPerSeid: 429 with Retry-After, nothing opens; past maxConnections: 503", async () => {
    app = testApp();
    const se = new SE({
      maxConnectionsPerSeid: 2,
      maxConnections: 3,
      seidGenerator: (request) => String(request.headers["x-user"]),
    });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    const alice = [
      await openStream(`${base}/events`, { "x-user": "alice" }),
      await openStream(`${base}/events`, { "x-user": "alice" }),
    ];
    for (const stream of alice) expect(stream.response.status).toBe(200);
    const third = await fetch(`${base}/events`, { headers: { "x-user": "alice" } });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(3);
    expect(third.headers.get("content-type")).not.toContain("text/event-stream");
    expect(((await third.json()) as { code: string }).code).toBe("FST_ERR_SE_TOO_MANY_CONNECTIONS");
    expect(se.clients.get("alice")?.size).toBe(2);

    const bob = await openStream(`${base}/events`, { "x-user": "bob" });
    expect(bob.response.status).toBe(200);
    const carol = await fetch(`${base}/events`, { headers: { "x-user": "carol" } });
    expect(carol.status).toBe(503);
    expect(Number(carol.headers.get("retry-after"))).toBeGreaterThanOrEqual(3);
    expect(((await carol.json()) as { code: string }).code).toBe("FST_ERR_SE_INSTANCE_FULL");
    expect(se.hub.size).toBe(3);
    expect(se.stats().refused).toBe(2);

    await alice[0]?.close();
    await until(() => se.hub.size === 2, "a slot freed");
    const again = await openStream(`${base}/events`, { "x-user": "carol" });
    expect(again.response.status).toBe(200);
    await Promise.all([alice[1]?.close(), bob.close(), again.close()]);
  });

  it("rejects invalid caps by name", () => {
    expect(() => new SE({ maxConnections: 0 })).toThrowError(
      expect.objectContaining({ option: "maxConnections" }),
    );
    expect(() => new SE({ maxConnectionsPerSeid: 1.5 })).toThrowError(
      expect.objectContaining({ option: "maxConnectionsPerSeid" }),
    );
  });
});

describe("stream lifetimes", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("expiresAt ends the stream (reason expired); the client reconnects and replays what it missed", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    const reasons: string[] = [];
    se.hub.on("disconnect", (_connection, reason) => reasons.push(reason));
    app.get("/events", (request, reply) => {
      const ttl = Number((request.query as { ttl?: string }).ttl ?? 0);
      reply.sse.open(ttl > 0 ? { expiresAt: Date.now() + ttl } : {});
    });
    const base = await listen(app);
    const first = await openStream(`${base}/events?ttl=200`);
    app.se.broadcast({ data: "before" });
    await until(() => first.data.length === 1, "before");
    await first.ended; // the server ended it on time
    expect(reasons).toEqual(["expired"]);
    app.se.broadcast({ data: "while away" });
    const again = await openStream(`${base}/events`, { "last-event-id": first.lastId as string });
    await until(() => again.data.length === 1, "the missed event");
    expect(again.data).toEqual(["while away"]);
    await again.close();
  });

  it("maxStreamMs: streams end and an EventSource reconnects on its own, getting every event once, in order", async () => {
    app = testApp();
    const se = new SE({ maxStreamMs: 150, retry: 20 });
    await app.register(se.plugin);
    let connects = 0;
    se.hub.on("connect", () => connects++);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    const client = record(`${base}/events`);
    await client.opened;
    for (let i = 0; i < 30; i++) {
      app.se.broadcast({ data: String(i) });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await until(() => client.events.length >= 30, "all 30 events", 10_000);
    expect(client.events.map((e) => e.data)).toEqual(
      Array.from({ length: 30 }, (_, i) => String(i)),
    );
    expect(connects).toBeGreaterThan(1);
    client.source.close();
  });

  it("rejects an invalid lifetime by name", () => {
    expect(() => new SE({ maxStreamMs: -1 })).toThrowError(
      expect.objectContaining({ option: "maxStreamMs" }),
    );
  });
});
