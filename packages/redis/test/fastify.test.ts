import { SE } from "@se/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RedisBackplane } from "../src/index.js";
import { EventClient } from "./event-client.js";
import { deleteKeys, REDIS_URL, redisAvailable, uniquePrefix } from "./redis-test-env.js";

describe.skipIf(!redisAvailable)("two Fastify instances sharing Redis", () => {
  const prefix = uniquePrefix();
  const opened: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
  });
  afterAll(() => deleteKeys(prefix));

  async function app(): Promise<{ fastify: FastifyInstance; url: string }> {
    const backplane = new RedisBackplane({ url: REDIS_URL, prefix });
    const se = new SE({
      backplane,
      history: backplane.history(),
      seidGenerator: (request) => (request.query as { seid?: string }).seid ?? "anonymous",
    });
    // The eventsource client keeps a spare socket open; don't wait for it on close.
    const fastify = Fastify({ forceCloseConnections: true });
    opened.push(fastify);
    await fastify.register(se.plugin);
    fastify.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    await fastify.listen({ port: 0, host: "127.0.0.1" });
    await se.hub.ready();
    const address = fastify.server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    return { fastify, url: `http://127.0.0.1:${address.port}/events` };
  }

  it("reaches a client of one app from the other, and replays on the other app", async () => {
    const one = await app();
    const two = await app();
    const alice = await EventClient.open(`${one.url}?seid=alice`, { types: ["note"] });
    opened.push(alice);

    two.fastify.se.broadcast({ data: "to everyone" });
    two.fastify.se.sendEventBySeid("alice", "to alice", "note");
    await alice.waitForData("to alice");
    one.fastify.se.send("alice", { data: "local" });
    await alice.waitForData("local");
    alice.close();

    two.fastify.se.send("alice", { data: "missed" });
    const back = await EventClient.open(`${two.url}?seid=alice`, {
      lastEventId: alice.lastEventId,
    });
    opened.push(back);
    await back.waitForData("missed");
    expect(alice.received.map((event) => [event.type, event.data])).toEqual([
      ["message", "to everyone"],
      ["note", "to alice"],
      ["message", "local"],
    ]);
    expect(back.data).toEqual(["missed"]);
  });
});
