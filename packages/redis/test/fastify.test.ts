import { EventClient } from "@se/testing/eventsource";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { startInstance } from "./instance.js";
import { settle, withoutFences } from "./settle.js";
import { suiteScope } from "./suite-scope.js";

describe.skipIf(!redisAvailable)("Fastify apps sharing Redis", () => {
  const { prefix, opened } = suiteScope();

  it("reaches a client of one app through the other's seed API, and replays there", async () => {
    const one = await startInstance({ url: REDIS_URL, prefix });
    opened.push(one);
    const two = await startInstance({ url: REDIS_URL, prefix });
    opened.push(two);
    const alice = await EventClient.open(`${one.url}?seid=alice`, { types: ["note"] });
    opened.push(alice);

    two.fastify.se.broadcast({ data: "to everyone" });
    two.fastify.se.sendEventBySeid("alice", "to alice", "note");
    await alice.waitForData("to alice"); // remote sends take a trip through Redis
    one.fastify.se.send("alice", { data: "local" });
    await settle(alice, "alice", [one, two]);
    expect(
      alice.received
        .filter((event) => !event.data.startsWith("fence"))
        .map((event) => [event.type, event.data]),
    ).toEqual([
      ["message", "to everyone"],
      ["note", "to alice"],
      ["message", "local"],
    ]);
    alice.close();

    two.fastify.se.send("alice", { data: "missed" });
    one.fastify.se.broadcast({ data: "missed too" });
    const back = await EventClient.open(`${two.url}?seid=alice`, {
      lastEventId: alice.lastEventId,
    });
    opened.push(back);
    await back.waitForData("missed too");
    await settle(back, "alice", [one, two]);
    expect(withoutFences(back.data)).toEqual(["missed", "missed too"]);
  });

  it("closes on fastify.close() the connections it opened, and no others", async () => {
    const owned = new Redis(REDIS_URL);
    opened.push({ close: () => owned.quit() });
    const mine = await startInstance({ url: REDIS_URL, prefix });
    const given = await startInstance({ client: owned, prefix });
    const client = await EventClient.open(`${mine.url}?seid=alice`);
    opened.push(client);
    await mine.fastify.close();
    await given.fastify.close();
    expect(mine.backplane.client.status).toBe("end");
    expect(mine.backplane.subscriber?.status).toBe("end");
    expect(given.backplane.subscriber?.status).toBe("end"); // duplicated by the backplane
    expect(owned.status).toBe("ready");
    expect(await owned.ping()).toBe("PONG");
    expect(await owned.pubsub("NUMSUB", `${prefix}events`)).toEqual([`${prefix}events`, 0]);
  });

  it("replays the topics a handler subscribes, on the same instance and on another (hole 1)", async () => {
    const one = await startInstance({ url: REDIS_URL, prefix });
    opened.push(one);
    const two = await startInstance({ url: REDIS_URL, prefix });
    opened.push(two);
    for (const [back, name] of [
      [one, "same instance"],
      [two, "another instance"],
    ] as const) {
      const first = await EventClient.open(`${one.url}?seid=reader&topics=news`);
      opened.push(first);
      one.fastify.se.broadcast({ data: `${name}: n1` }, { topic: "news" });
      await first.waitForData(`${name}: n1`);
      const lastEventId = first.lastEventId;
      first.close();
      two.fastify.se.broadcast({ data: `${name}: n2` }, { topic: "news" });
      one.fastify.se.broadcast({ data: `${name}: n3` }, { topic: "news" });
      const again = await EventClient.open(`${back.url}?seid=reader&topics=news`, {
        ...(lastEventId ? { lastEventId } : {}),
      });
      opened.push(again);
      await settle(again, "reader", [one, two]);
      expect(withoutFences(again.data), name).toEqual([`${name}: n2`, `${name}: n3`]);
      again.close();
    }
  });
});
