import net from "node:net";
import { EventSource } from "eventsource";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE } from "../src/index.js";
import { listen, openStream, record, testApp, until } from "./helpers.js";

/** An app whose SSE route takes the user from a bearer token, as a real app's auth would. */
async function authApp(
  options: ConstructorParameters<typeof SE>[0] = {},
  routes: (app: FastifyInstance) => void = () => {},
) {
  const app = testApp();
  const se = new SE({
    ...options,
    seidGenerator: (request) => String((request as { user?: string }).user),
  });
  await app.register(se.plugin);
  app.get("/health", async () => ({ ok: true }));
  app.get(
    "/events",
    {
      onRequest: async (request, reply) => {
        const user = /^Bearer (\w+)$/.exec(request.headers.authorization ?? "")?.[1];
        if (user === undefined) return reply.code(401).send();
        (request as { user?: string }).user = user;
      },
    },
    (_request, reply) => {
      reply.sse.open();
    },
  );
  routes(app);
  return { app, se, base: await listen(app) };
}

const bearer = (user: string) => ({ authorization: `Bearer ${user}` });

describe("hub.disconnect (logout, revocation)", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("ends every stream of a seid after a last event, in order after what was sent before; other clients are untouched", async () => {
    const made = await authApp();
    app = made.app;
    const alice = [
      await openStream(`${made.base}/events`, bearer("alice")),
      await openStream(`${made.base}/events`, bearer("alice")),
    ];
    const bob = await openStream(`${made.base}/events`, bearer("bob"));
    await until(() => made.se.hub.size === 3, "three streams");
    made.se.send("alice", { data: "before" });
    const result = made.se.disconnect("alice", { event: { event: "logout", data: "bye" } });
    expect(result).toEqual({ local: 2, published: false });
    for (const stream of alice) {
      await stream.ended;
      expect(stream.events.map((e) => [e.event, e.data])).toEqual([
        [undefined, "before"],
        ["logout", "bye"],
      ]);
    }
    expect(made.se.hub.connectionsOf("alice").size).toBe(0);
    made.se.broadcast({ data: "after" });
    await until(() => bob.data.includes("after"), "bob still served");
    expect(bob.data).toEqual(["after"]);
    await bob.close();
  });

  it("refuseReconnectMs: the reconnect is answered 204 and an EventSource stops; others still connect", async () => {
    const made = await authApp({ retry: 50 });
    app = made.app;
    const client = record(`${made.base}/events`, ["message", "logout"], {
      headers: bearer("alice"),
    });
    await client.opened;
    let errors = 0;
    client.source.onerror = () => errors++;
    made.se.disconnect("alice", {
      event: { event: "logout", data: "" },
      refuseReconnectMs: 60_000,
    });
    await until(() => client.source.readyState === EventSource.CLOSED, "the EventSource gave up");
    expect(client.events.map((e) => e.type)).toEqual(["logout"]);
    expect(errors).toBeGreaterThan(0);
    const again = await fetch(`${made.base}/events`, { headers: bearer("alice") });
    expect(again.status).toBe(204);
    expect(await again.text()).toBe("");
    expect(made.se.stats().refused).toBeGreaterThanOrEqual(2);
    expect(made.se.hub.size).toBe(0);
    const bob = await openStream(`${made.base}/events`, bearer("bob"));
    expect(bob.response.status).toBe(200);
    expect((await fetch(`${made.base}/health`)).status).toBe(200);
    await bob.close();
  });

  it("by topic and by predicate; the disconnect reason is reported", async () => {
    const made = await authApp({}, (app) =>
      app.get("/room", (request, reply) => {
        reply.sse.open({ topics: [String((request.query as { t?: string }).t)] });
      }),
    );
    app = made.app;
    const reasons: string[] = [];
    made.se.hub.on("disconnect", (_connection, reason) => reasons.push(reason));
    const inRoom = await openStream(`${made.base}/room?t=red`);
    const elsewhere = await openStream(`${made.base}/room?t=blue`);
    const carol = await openStream(`${made.base}/events`, bearer("carol"));
    await until(() => made.se.hub.size === 3, "three streams");
    expect(made.se.disconnect({ topic: "red" }).local).toBe(1);
    await inRoom.ended;
    expect(made.se.disconnect((connection) => connection.seid === "carol").local).toBe(1);
    await carol.ended;
    expect(reasons).toEqual(["disconnected", "disconnected"]);
    expect(made.se.hub.size).toBe(1);
    await elsewhere.close();
  });

  it("rejects a bad target, event or option by name; nothing ends", async () => {
    const made = await authApp();
    app = made.app;
    const stream = await openStream(`${made.base}/events`, bearer("dave"));
    await until(() => made.se.hub.size === 1, "connected");
    expect(() => made.se.disconnect({} as never)).toThrowError(
      expect.objectContaining({ name: "SeOptionError", option: "target" }),
    );
    expect(() => made.se.disconnect("")).toThrowError(
      expect.objectContaining({ name: "SeOptionError", option: "seid" }),
    );
    expect(() => made.se.disconnect("dave", { event: { event: "a\nb", data: "" } })).toThrowError(
      expect.objectContaining({ name: "SseFormatError", field: "event" }),
    );
    expect(() => made.se.disconnect("dave", { refuseReconnectMs: -5 })).toThrowError(
      expect.objectContaining({ name: "SeOptionError", option: "refuseReconnectMs" }),
    );
    expect(made.se.hub.size).toBe(1);
    await stream.close();
  });
});

describe("a client that stops reading does not keep a stream the server ended", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  for (const [name, end] of [
    ["resync", (se: SE) => se.resync()],
    ["disconnect", (se: SE) => se.disconnect("stalled")],
  ] as const) {
    it(`${name}: torn down after graceMs`, async () => {
      app = Fastify();
      const se = new SE({
        graceMs: 200,
        retry: false,
        heartbeatMs: false,
        seidGenerator: () => "stalled",
      });
      await app.register(se.plugin);
      app.get("/events", (_request, reply) => {
        reply.sse.open();
      });
      const base = await listen(app);
      const serverSide: net.Socket[] = [];
      app.server.on("connection", (socket: net.Socket) => serverSide.push(socket));
      const socket = net.connect(Number(new URL(base).port), "127.0.0.1");
      socket.write("GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
      await new Promise((resolve) => socket.once("data", resolve));
      socket.pause(); // stops reading: its socket fills up and never takes the end
      await until(() => se.hub.size === 1, "connected");
      for (let i = 0; i < 200; i++) se.broadcast({ data: "z".repeat(64 * 1024) });
      await end(se);
      expect(se.hub.size).toBe(0);
      expect(serverSide).toHaveLength(1);
      // Ended, but the bytes before the end are stuck in the socket until the grace is over.
      expect(serverSide[0]?.destroyed).toBe(false);
      await until(() => serverSide[0]?.destroyed === true, "the socket torn down", 10_000);
      socket.destroy();
    });
  }
});
