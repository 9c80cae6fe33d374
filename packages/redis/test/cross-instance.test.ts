import { EventClient, REDIS_URL, redisAvailable } from "@se/test-support";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type Instance, startInstance } from "./instance.js";
import { settle, withoutFences } from "./settle.js";
import { suiteScope } from "./suite-scope.js";

describe.skipIf(!redisAvailable)("sends across instances through Redis", () => {
  const { prefix, opened } = suiteScope();

  async function instances(count: number): Promise<Instance[]> {
    const list: Instance[] = [];
    for (let i = 0; i < count; i++) {
      const instance = await startInstance({ url: REDIS_URL, prefix });
      opened.push(instance);
      list.push(instance);
    }
    return list;
  }

  it("delivers direct, broadcast and topic sends from any instance exactly once", async () => {
    // Three ways to connect: a URL, ioredis options, a client the app owns (the backplane
    // opens the subscriber itself, from the URL/options or by duplicating the client).
    const { hostname, port } = new URL(REDIS_URL);
    const owned = new Redis(REDIS_URL);
    opened.push({ close: () => owned.quit() });
    const a = await startInstance({ url: REDIS_URL, prefix });
    opened.push(a);
    const b = await startInstance({
      redis: { host: hostname, port: Number(port || 6379) },
      prefix,
    });
    opened.push(b);
    const c = await startInstance({ client: owned, prefix });
    opened.push(c);
    for (const instance of [a, b, c]) {
      expect(instance.backplane.subscriber).toBeDefined();
      expect(instance.backplane.subscriber).not.toBe(instance.backplane.client);
    }
    const alice = await EventClient.open(`${a.url}?seid=alice&topics=news`);
    opened.push(alice);
    const bob = await EventClient.open(`${c.url}?seid=bob`);
    opened.push(bob);

    for (const [name, sender] of [
      ["a", a],
      ["b", b],
      ["c", c],
    ] as const) {
      for (let i = 0; i < 3; i++) {
        sender.hub.send("alice", { data: `${name}-direct-${i}` });
        sender.hub.broadcast({ data: `${name}-all-${i}` });
        sender.hub.broadcast({ data: `${name}-news-${i}` }, { topic: "news" });
        sender.hub.broadcast({ data: `${name}-sports-${i}` }, { topic: "sports" });
        sender.hub.send("bob", { data: `${name}-bob-${i}` });
      }
    }
    await settle(alice, "alice", a, [a, b, c]);
    await settle(bob, "bob", c, [a, b, c]);

    const expected = (kinds: string[]) =>
      ["a", "b", "c"].flatMap((name) =>
        kinds.flatMap((kind) => [0, 1, 2].map((i) => `${name}-${kind}-${i}`)),
      );
    expect(withoutFences(alice.data).sort()).toEqual(expected(["direct", "all", "news"]).sort());
    expect(withoutFences(bob.data).sort()).toEqual(expected(["all", "bob"]).sort());
    for (const client of [alice, bob]) {
      const ids = client.received.map((event) => event.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });

  it("keeps ids increasing across instances, each id made after the last one seen", async () => {
    const [a, b] = (await instances(2)) as [Instance, Instance];
    const alice = await EventClient.open(`${a.url}?seid=alice`);
    opened.push(alice);
    for (let i = 0; i < 20; i++) {
      const sender = i % 2 === 0 ? a : b;
      const { id } = sender.hub.send("alice", { data: `event-${i}` });
      await alice.waitForData(`event-${i}`);
      expect(alice.lastEventId).toBe(id);
    }
    const ids = alice.received.map((event) => event.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^\d{16}-\w+$/.test(id))).toBe(true);
  });

  it("keeps apps with different prefixes apart", async () => {
    const [a] = (await instances(1)) as [Instance];
    const other = await startInstance({ url: REDIS_URL, prefix: `${prefix}other:` });
    opened.push(other);
    const alice = await EventClient.open(`${a.url}?seid=alice`);
    opened.push(alice);
    other.hub.broadcast({ data: "other app" });
    a.hub.broadcast({ data: "this app" });
    await settle(alice, "alice", a, [a]);
    expect(withoutFences(alice.data)).toEqual(["this app"]);
    expect(a.backplane.channel).toBe(`${prefix}events`);
    // Every key either app wrote is under its own prefix.
    const redis = new Redis(REDIS_URL);
    opened.push({ close: () => redis.quit() });
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.sort()).toEqual([`${prefix}history`, `${prefix}other:history`]);
    expect(await redis.xlen(`${prefix}history`)).toBeGreaterThan(0);
  });
});
