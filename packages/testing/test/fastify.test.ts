import { SE } from "@se/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { openStream, type StreamEventOf, StreamResponseError, waitFor } from "../src/index.js";

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A Fastify app with @se/fastify: `GET /events` opens a stream and sends a welcome. */
async function eventsApp(): Promise<{ app: FastifyInstance; se: SE }> {
  const se = new SE({ heartbeatMs: false });
  app = Fastify();
  await app.register(se.plugin);
  app.get("/events", (_request, reply) => {
    reply.sse.send({ event: "welcome", data: "hi" });
  });
  return { app, se };
}

describe("openStream against a Fastify app with @se/fastify", () => {
  it("listens on 127.0.0.1:0 when the app is not listening yet, and reads its events", async () => {
    const { app, se } = await eventsApp();
    expect(app.server.listening).toBe(false);
    await using stream = await openStream(app, { path: "/events" });
    expect(app.server.listening).toBe(true);
    expect(stream.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/events$/);
    expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await stream.waitFor("welcome")).toMatchObject({ data: "hi" });
    // The default retry, 3000 ms, plus its per-client jitter (up to 50 %).
    expect(stream.retry).toBeGreaterThanOrEqual(3000);
    expect(stream.retry).toBeLessThanOrEqual(4500);

    se.broadcast({ event: "news", data: "one" });
    expect(await stream.waitFor("news")).toMatchObject({ data: "one" });
  });

  it("replays what was missed when reconnect() sends Last-Event-ID", async () => {
    const { app, se } = await eventsApp();
    const first = await openStream(app, { path: "/events" });
    await first.waitFor("welcome");
    se.broadcast({ event: "news", data: "1" });
    se.broadcast({ event: "news", data: "2" });
    const [one, two] = await first.take(2);
    expect([one?.data, two?.data]).toEqual(["1", "2"]);
    expect(first.lastEventId).toBe(two?.id);
    await first.close();
    await waitFor(() => se.stats().connections === 0, "the app to see the stream go");

    se.broadcast({ event: "news", data: "3" });
    se.broadcast({ event: "news", data: "4" });
    await using second = await first.reconnect();
    expect((await second.waitFor("welcome")).data).toBe("hi");
    const missed = await second.take(2);
    expect(missed.map((event) => event.data)).toEqual(["3", "4"]);
    se.broadcast({ event: "news", data: "5" });
    expect((await second.next()).data).toBe("5");
    expect(second.events.filter((event) => event.event === "news").map((e) => e.data)).toEqual([
      "3",
      "4",
      "5",
    ]);
  });

  it("ends the iteration when app.close() ends the stream", async () => {
    const { app, se } = await eventsApp();
    const stream = await openStream(app, { path: "/events" });
    await stream.waitFor("welcome");
    se.broadcast({ data: "last" });
    await stream.waitFor((event) => event.data === "last");
    const closing = app.close();
    const rest: string[] = [];
    for await (const event of stream) rest.push(event.event);
    await closing;
    expect(rest).toEqual([]);
    expect(await stream.closed).toEqual({ by: "server" });
  });

  it("types JSON events with the app's event map", async () => {
    type Events = { welcome: string; score: { team: string; points: number } };
    const se = new SE<Events>({ heartbeatMs: false });
    app = Fastify();
    await app.register(se.plugin);
    app.get("/scores", (_request, reply) => {
      reply.sse.open();
    });
    await using stream = await openStream<Events>(app, { path: "/scores", decode: "json" });
    await waitFor(() => se.stats().connections === 1, "the stream to register");
    se.broadcast({ event: "score", data: { team: "red", points: 3 } });
    const score = await stream.waitFor("score");
    expectTypeOf(score).toEqualTypeOf<StreamEventOf<"score", Events["score"]>>();
    expect(score.data).toEqual({ team: "red", points: 3 });
  });

  it("rejects a refused stream with its status and body (400 for a bad Last-Event-ID)", async () => {
    const { app } = await eventsApp();
    const error = await openStream(app, { path: "/events", lastEventId: "x".repeat(600) }).catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(StreamResponseError);
    expect(error.status).toBe(400);
    expect(JSON.parse(error.body)).toMatchObject({ code: "FST_ERR_SE_BAD_REQUEST" });
  });

  it("opens several streams at once on an app that is not listening", async () => {
    const { app, se } = await eventsApp();
    const streams = await Promise.all([1, 2, 3].map(() => openStream(app, { path: "/events" })));
    await waitFor(() => se.stats().connections === 3, "three streams");
    se.broadcast({ data: "all" });
    for (const stream of streams) {
      expect((await stream.waitFor((event) => event.data === "all")).event).toBe("message");
      await stream.close();
    }
  });
});
