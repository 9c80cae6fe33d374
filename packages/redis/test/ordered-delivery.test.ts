import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type FakeHub, readStream, settleHubs, startFakeHub, testRedis } from "./fake-receiver.js";
import { suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

describe.skipIf(!redisAvailable)("every instance delivers the stream in its order", () => {
  const { prefix, opened } = suiteScope("ordered", { failOnUnhandledRejection: true });
  let n = 0;
  const fresh = () => `${prefix}${++n}:`;

  async function hubs(scope: string, count: number): Promise<FakeHub[]> {
    const list: FakeHub[] = [];
    for (let i = 0; i < count; i++) {
      const hub = await startFakeHub({ prefix: scope });
      opened.push(hub);
      list.push(hub);
    }
    return list;
  }

  it("3 instances each sending 300 as fast as they can: one order everywhere (hole 7)", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const all = await hubs(scope, 3);
    for (let i = 0; i < 300; i++) {
      for (const [h, hub] of all.entries()) hub.send(`h${h}-${i}`);
    }
    await settleHubs(redis, `${scope}history`, all);

    const stream = (await readStream(redis, `${scope}history`)).slice(1);
    expect(stream).toHaveLength(900);
    for (const hub of all) {
      expect(hub.receiver.positions).toEqual(stream.map((entry) => entry.position));
      expect(hub.receiver.data).toEqual(stream.map((entry) => entry.data));
      expect(hub.receiver.received.every((e) => e.id === e.position)).toBe(true);
      expect(hub.receiver.errors).toEqual([]);
    }
    // Each sender's own events keep their send order within the one order.
    for (let h = 0; h < 3; h++) {
      const mine = all[0]?.receiver.data.filter((data) => data.startsWith(`h${h}-`));
      expect(mine).toEqual(Array.from({ length: 300 }, (_, i) => `h${h}-${i}`));
    }
  });

  it("catches up from its head after its subscription was lost, then goes on live", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const subscriber = new Redis(proxy.url, { retryStrategy: () => 50 });
    subscriber.on("error", () => {});
    opened.push({ close: () => subscriber.disconnect() });
    const a = await startFakeHub({ prefix: scope, subscriber }, { maxEvents: 5000 });
    opened.push(a);
    const b = await startFakeHub({ prefix: scope }, { maxEvents: 5000 });
    opened.push(b);
    b.send("before");
    await settleHubs(redis, `${scope}history`, [a, b]);

    await proxy.cut();
    await waitFor(() => subscriber.status !== "ready", "A's subscriber to notice");
    for (let i = 0; i < 1200; i++) b.send(`missed-${i}`); // more than one catch-up page
    await settleHubs(redis, `${scope}history`, [b]);
    await proxy.restore();
    await settleHubs(redis, `${scope}history`, [a, b]);
    b.send("after");
    a.send("after-a");
    await settleHubs(redis, `${scope}history`, [a, b]);

    expect(a.receiver.data).toEqual(b.receiver.data);
    expect(a.receiver.positions).toEqual(b.receiver.positions);
    expect(a.receiver.data).toHaveLength(1203);
    expect(a.receiver.received.some((e) => e.gap)).toBe(false);
  });

  it("delivers a gap for everyone at the newest position when its head was trimmed", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const subscriber = new Redis(proxy.url, { retryStrategy: () => 50 });
    subscriber.on("error", () => {});
    opened.push({ close: () => subscriber.disconnect() });
    const a = await startFakeHub({ prefix: scope, subscriber }, { maxEvents: 10 });
    opened.push(a);
    const b = await startFakeHub({ prefix: scope }, { maxEvents: 10 });
    opened.push(b);
    b.send("before");
    await settleHubs(redis, `${scope}history`, [a, b]);

    await proxy.cut();
    await waitFor(() => subscriber.status !== "ready", "A's subscriber to notice");
    for (let i = 0; i < 1000; i++) b.send(`missed-${i}`);
    await settleHubs(redis, `${scope}history`, [b]);
    const newest = b.backplane.position;
    expect(await redis.xlen(`${scope}history`)).toBeLessThan(1000);
    await proxy.restore();
    await settleHubs(redis, `${scope}history`, [a, b]);
    b.send("after");
    await settleHubs(redis, `${scope}history`, [a, b]);

    expect(a.receiver.data).toEqual(["before", "<gap>", "after"]);
    expect(a.receiver.received[1]).toMatchObject({ gap: true, target: { kind: "all" }, frame: "" });
    expect(a.receiver.received[1]?.position).toBe(newest);
    expect(a.receiver.received[2]?.position).toBe(b.receiver.positions.at(-1));
  });

  it("skips what it already has and catches up what it missed from a message out of turn", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const [a] = await hubs(scope, 1);
    if (!a) throw new Error("no hub");
    a.send("one");
    await settleHubs(redis, `${scope}history`, [a]);
    // Entries written behind the backplane's back (not published), then one published normally:
    // its prev is not A's head, so A reads the stream from its head.
    const key = `${scope}history`;
    const origin = a.receiver.instanceId;
    for (const data of ["hidden-1", "hidden-2"]) {
      const payload = JSON.stringify({
        o: origin,
        t: { kind: "all" },
        f: `data: ${data}\n\n`,
        a: 1,
      });
      await redis.xadd(key, "*", "k", "e", "p", payload);
    }
    a.send("two");
    await settleHubs(redis, key, [a]);
    expect(a.receiver.data).toEqual(["one", "hidden-1", "hidden-2", "two"]);
    // A replayed message (already delivered) is ignored.
    const channel = `${scope}events`;
    const first = a.receiver.positions[0] as string;
    const stale = JSON.stringify({ o: origin, t: { kind: "all" }, f: "data: one\n\n", a: 1 });
    await redis.publish(channel, `0-0 ${first} e ${stale}`);
    a.send("three");
    await settleHubs(redis, key, [a]);
    expect(a.receiver.data).toEqual(["one", "hidden-1", "hidden-2", "two", "three"]);
  });
});
