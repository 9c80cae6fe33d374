import { comparePositions } from "@se/core";
import { waitFor } from "@se/testing";
import { EventClient } from "@se/testing/eventsource";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type Instance, startInstance } from "./instance.js";
import { settle, withoutFences } from "./settle.js";
import { suiteScope } from "./suite-scope.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectIncreasing(ids: readonly string[]): void {
  for (let i = 1; i < ids.length; i++) {
    expect(comparePositions(ids[i] as string, ids[i - 1] as string)).toBeGreaterThan(0);
  }
}

describe.skipIf(!redisAvailable)("sends across instances through Redis", () => {
  const { prefix, opened } = suiteScope();

  async function instances(count: number, scope = prefix): Promise<Instance[]> {
    const list: Instance[] = [];
    for (let i = 0; i < count; i++) {
      const instance = await startInstance({ url: REDIS_URL, prefix: scope });
      opened.push(instance);
      list.push(instance);
    }
    return list;
  }

  async function client(url: string, lastEventId?: string): Promise<EventClient> {
    const opened_ = await EventClient.open(url, {
      types: ["se-reset"],
      ...(lastEventId ? { lastEventId } : {}),
    });
    opened.push(opened_);
    return opened_;
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
    const alice = await client(`${a.url}?seid=alice&topics=news`);
    const bob = await client(`${c.url}?seid=bob`);

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
    await settle(alice, "alice", [a, b, c]);
    await settle(bob, "bob", [a, b, c]);

    const expected = (kinds: string[]) =>
      ["a", "b", "c"].flatMap((name) =>
        kinds.flatMap((kind) => [0, 1, 2].map((i) => `${name}-${kind}-${i}`)),
      );
    expect(withoutFences(alice.data).sort()).toEqual(expected(["direct", "all", "news"]).sort());
    expect(withoutFences(bob.data).sort()).toEqual(expected(["all", "bob"]).sort());
    for (const one of [alice, bob]) {
      const ids = one.received.filter((e) => !e.id.startsWith("fence")).map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expectIncreasing(ids);
    }
    // The broadcasts both got arrived in the same order.
    const shared = (one: EventClient) => one.data.filter((data) => data.includes("-all-"));
    expect(shared(alice)).toEqual(shared(bob));
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });

  it("3 instances each sending 300 as fast as they can: one order on every client (hole 7)", async () => {
    const all = await instances(3);
    const clients: EventClient[] = [];
    for (const instance of all) {
      for (let i = 0; i < 3; i++) clients.push(await client(`${instance.url}?seid=u${i}`));
    }
    for (let i = 0; i < 300; i++) {
      for (const [h, instance] of all.entries()) instance.hub.broadcast({ data: `h${h}-${i}` });
    }
    await waitFor(() => clients.every((one) => one.received.length >= 900), "900 events each");
    for (const one of clients) await settle(one, one === clients[0] ? "u0" : "none", []);
    const order = clients[0]?.data;
    expect(order).toHaveLength(900);
    for (const one of clients) {
      expect(one.data).toEqual(order);
      expectIncreasing(one.received.map((event) => event.id));
    }
    for (let h = 0; h < 3; h++) {
      const mine = order?.filter((data) => data.startsWith(`h${h}-`));
      expect(mine).toEqual(Array.from({ length: 300 }, (_, i) => `h${h}-${i}`));
    }
  });

  it("clients cut mid-burst that reconnect to another instance get every event once, in order (hole 7)", async () => {
    const all = (await instances(3)) as [Instance, Instance, Instance];
    const watcher = await client(`${all[2].url}?seid=watcher`);
    const firsts: EventClient[] = [];
    for (let i = 0; i < 6; i++)
      firsts.push(await client(`${(all[i % 3] as Instance).url}?seid=r${i}`));
    const sending = (async () => {
      for (let i = 0; i < 150; i++) {
        for (const [h, instance] of all.entries()) instance.hub.broadcast({ data: `h${h}-${i}` });
        if (i % 10 === 0) await sleep(5);
      }
    })();
    const seconds: EventClient[] = [];
    for (const [i, first] of firsts.entries()) {
      await waitFor(() => first.received.length >= 20 + i * 60, "the client to be mid-burst");
      first.close();
      const other = all[(i + 1) % 3] as Instance;
      seconds.push(await client(`${other.url}?seid=r${i}`, first.lastEventId));
    }
    await sending;
    await waitFor(() => watcher.received.length >= 450, "the watcher to get all 450");
    for (const [i, second] of seconds.entries()) {
      const last = () => (second.received.at(-1) ?? firsts[i]?.received.at(-1))?.id;
      await waitFor(() => last() === watcher.received.at(-1)?.id, "the client to reach the end");
    }
    for (const [i, first] of firsts.entries()) {
      const second = seconds[i] as EventClient;
      expect([...first.data, ...second.data]).toEqual(watcher.data);
      expect(second.received.every((event) => event.type === "message")).toBe(true);
    }
  });

  it("never lets a caller's id change the generated ones, across instances (hole 6)", async () => {
    const [a, b] = (await instances(2)) as [Instance, Instance];
    const alice = await client(`${a.url}?seid=alice`);
    a.hub.broadcast({ data: "big", id: "9999999999999999-x" });
    for (let i = 0; i < 10; i++) (i % 2 ? a : b).hub.broadcast({ data: `after-${i}` });
    await waitFor(() => alice.received.length === 11, "11 events");
    const generated = alice.received.slice(1).map((event) => event.id);
    expect(new Set(generated).size).toBe(10);
    expectIncreasing(generated);
    alice.close();
    const back = await client(`${b.url}?seid=alice`, "9999999999999999-x");
    await waitFor(() => back.received.length === 10, "the replay");
    expect(back.data).toEqual(alice.data.slice(1));
    expect(back.received.map((event) => event.id)).toEqual(generated);
  });

  it("keeps apps with different prefixes apart", async () => {
    const [a] = (await instances(1)) as [Instance];
    const [other] = (await instances(1, `${prefix}other:`)) as [Instance];
    const alice = await client(`${a.url}?seid=alice`);
    other.hub.broadcast({ data: "other app" });
    a.hub.broadcast({ data: "this app" });
    await settle(alice, "alice", [a]);
    expect(withoutFences(alice.data)).toEqual(["this app"]);
    expect(a.backplane.channel).toBe(`${prefix}events`);
    // Every key either app wrote is under its own prefix: the stream and the ids given.
    const redis = new Redis(REDIS_URL);
    opened.push({ close: () => redis.quit() });
    const keys = await redis.keys(`${prefix}*`);
    const mine = keys.filter((key) => !key.startsWith(`${prefix}other:`));
    expect(mine).toContain(`${prefix}history`);
    expect(mine.every((key) => key === `${prefix}history` || key.startsWith(`${prefix}id:`))).toBe(
      true,
    );
    expect(keys).toContain(`${prefix}other:history`);
  });
});
