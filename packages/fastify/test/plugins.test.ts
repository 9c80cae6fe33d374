import compress from "@fastify/compress";
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE } from "../src/index.js";
import { listen, record, testApp, until } from "./helpers.js";

describe("with other Fastify plugins", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("@fastify/cors headers reach the client", async () => {
    app = testApp();
    await app.register(cors, { origin: "https://app.example", credentials: true });
    const se = new SE();
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sendEvent("hi");
    });
    const base = await listen(app);
    const response = await fetch(`${base}/events`, { headers: { origin: "https://app.example" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    await response.body?.cancel();
  });

  it("@fastify/compress does not buffer or compress the event stream", async () => {
    app = testApp();
    await app.register(compress, { global: true, threshold: 0 });
    const se = new SE();
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    app.get("/json", () => ({ big: "x".repeat(2000) }));
    const base = await listen(app);

    const json = await fetch(`${base}/json`, { headers: { "accept-encoding": "gzip" } });
    expect(json.headers.get("content-encoding")).toBe("gzip"); // compress is active
    await json.arrayBuffer();

    const client = record(`${base}/events`, ["message"], {
      headers: { "accept-encoding": "gzip, br" },
    });
    await client.opened;
    app.se.broadcast({ data: "live 1" });
    await until(() => client.events.length === 1, "an uncompressed live event");
    app.se.broadcast({ data: "live 2" });
    await until(() => client.events.length === 2, "a second live event");
    expect(client.events.map((e) => e.data)).toEqual(["live 1", "live 2"]);
    const raw = await fetch(`${base}/events`, { headers: { "accept-encoding": "gzip" } });
    expect(raw.headers.get("content-encoding")).toBeNull();
    await raw.body?.cancel();
    client.source.close();
  });
});

describe("sending from outside a request", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("fastify.se.broadcast reaches all, a topic only its subscribers; from a POST, a timer", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    app.get("/events", (request, reply) => {
      const { room } = request.query as { room?: string };
      if (room) reply.sse.subscribe(room);
      reply.sse.open();
    });
    app.post("/rooms/:room", (request) => {
      const { room } = request.params as { room: string };
      return app.se.broadcast({ event: "chat", data: request.body }, { topic: room });
    });
    const base = await listen(app);
    const red = record(`${base}/events?room=red`, ["chat", "message"]);
    const blue = record(`${base}/events?room=blue`, ["chat", "message"]);
    const none = record(`${base}/events`, ["chat", "message"]);
    await Promise.all([red.opened, blue.opened, none.opened]);

    const delivery = await (
      await fetch(`${base}/rooms/red`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "red only" }),
      })
    ).json();
    expect(delivery).toMatchObject({ local: 1, published: false });
    setTimeout(() => app.se.broadcast({ data: "everyone" }), 1);

    await until(() => none.events.length === 1 && red.events.length === 2, "the broadcasts");
    expect(red.events.map((e) => [e.type, e.data])).toEqual([
      ["chat", '{"text":"red only"}'],
      ["message", "everyone"],
    ]);
    expect(blue.events.map((e) => e.data)).toEqual(["everyone"]);
    expect(se.stats()).toMatchObject({ connections: 3, topics: 2, eventsSent: 4 });
    for (const c of [red, blue, none]) c.source.close();
  });

  it("answers an invalid first event with a 500 naming the field, not a 200 stream", async () => {
    app = testApp();
    await app.register(new SE().plugin);
    app.get("/modern", (_request, reply) => {
      reply.sse.send({ event: "x\ndata: evil", data: "pwned" });
    });
    app.get("/seed", (_request, reply) => {
      reply.sendEvent("pwned", "ok", "1\ndata: evil");
    });
    for (const [url, field] of [
      ["/modern", "event"],
      ["/seed", "id"],
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(500);
      expect(response.headers["content-type"], url).toMatch(/^application\/json/);
      expect(response.json(), url).toMatchObject({
        code: "SE_ERR_INVALID_FIELD",
        message: expect.stringContaining(field as string),
      });
    }
    expect(app.se.stats().connections).toBe(0);
  });

  it("rejects an injection attempt with a typed error and leaves every stream intact", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    const a = record(`${base}/events`, ["message", "evil"]);
    const b = record(`${base}/events`, ["message", "evil"]);
    await Promise.all([a.opened, b.opened]);
    expect(() => app.se.broadcast({ event: "x\nevent: evil", data: "pwned" })).toThrowError(
      expect.objectContaining({
        name: "SseFormatError",
        code: "SE_ERR_INVALID_FIELD",
        field: "event",
      }),
    );
    expect(() =>
      app.se.sendEventBySeid([...se.clients.keys()][0] as string, "x", null, "1\ndata: evil"),
    ).toThrowError(expect.objectContaining({ field: "id" }));
    app.se.broadcast({ data: "line1\r\nevent: evil\r\n\r\ndata: still data" });
    await until(() => a.events.length === 1 && b.events.length === 1, "the good event");
    for (const c of [a, b]) {
      expect(c.events).toEqual([
        {
          type: "message",
          data: "line1\nevent: evil\n\ndata: still data",
          lastEventId: expect.stringMatching(/^\d+$/),
        },
      ]);
      c.source.close();
    }
  });
});
