import { SeError } from "@se/core";
import { EventClient, REDIS_URL, redisAvailable, waitFor } from "@se/test-support";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisBackplane, RedisUnavailableError } from "../src/index.js";
import { type Instance, startInstance } from "./instance.js";
import { settle, withoutFences } from "./settle.js";
import { suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

/** Commands ioredis holds for a client: sent and unanswered, or queued while offline. */
function queued(client: Redis | undefined): number {
  const queues = client as unknown as {
    commandQueue: { length: number };
    offlineQueue: { length: number };
  };
  return queues.commandQueue.length + queues.offlineQueue.length;
}

/** What Fastify logged about Redis being unavailable. */
function outageLogs(instance: Instance): unknown[] {
  return instance.logs.filter((line) => line.msg === "se: event stream error");
}

describe.skipIf(!redisAvailable)("a Redis outage", () => {
  const { prefix, opened } = suiteScope(undefined, { failOnUnhandledRejection: true });

  it("keeps local sends working, reports once, and recovers", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    // Without the resync, alice's stream stays open across the outage (resync.test.ts has it).
    const a = await startInstance({
      url: proxy.url,
      prefix,
      redis: { retryStrategy: () => 50 },
      resyncOnRecovery: false,
    });
    opened.push(a);
    const b = await startInstance({ url: REDIS_URL, prefix });
    opened.push(b);
    const alice = await EventClient.open(`${a.url}?seid=alice`, { types: ["se-reset"] });
    opened.push(alice);
    const bob = await EventClient.open(`${b.url}?seid=bob`);
    opened.push(bob);

    b.hub.send("alice", { data: "before" });
    await alice.waitForData("before");
    const beforeId = alice.lastEventId;

    await proxy.cut();
    await waitFor(() => !a.backplane.connected, "the backplane to notice the outage");
    for (let i = 0; i < 1000; i++) {
      const delivery = a.hub.broadcast({ data: `local-${i}` });
      expect(delivery.local).toBe(1);
    }
    await alice.waitForData("local-999");
    // Nothing waits for Redis to come back: no offline queue, no unanswered command.
    expect(queued(a.backplane.client)).toBe(0);
    expect(queued(a.backplane.subscriber)).toBe(0);
    b.hub.send("alice", { data: "during" });

    await proxy.restore();
    await waitFor(() => a.backplane.connected, "the backplane to reconnect", 20_000);
    b.hub.send("alice", { data: "after" });
    await alice.waitForData("after");
    a.hub.broadcast({ data: "from-a" });
    await bob.waitForData("from-a");

    expect(a.errors).toHaveLength(1);
    expect(outageLogs(a)).toHaveLength(1);
    const [error] = a.errors;
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(SeError.isInstance(error) && error.code).toBe("SE_ERR_REDIS_UNAVAILABLE");
    expect(b.errors).toEqual([]);
    // Published while A was cut off: without the resync, A's clients miss it (pub/sub keeps nothing).
    expect(alice.data.filter((data) => !data.startsWith("local-"))).toEqual([
      "before",
      "after",
      "from-a",
    ]);

    // A's events during the outage never reached the shared history: a client that was
    // away is told to reset rather than silently missing them.
    const back = await EventClient.open(`${b.url}?seid=alice`, {
      lastEventId: beforeId,
      types: ["se-reset"],
    });
    opened.push(back);
    await waitFor(() => back.received.length > 0, "the reset event");
    expect(back.received[0]?.type).toBe("se-reset");
  });

  it("starts with Redis unreachable, reports it, serves local sends, connects later", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    await proxy.cut();
    const a = await startInstance({ url: proxy.url, prefix, redis: { retryStrategy: () => 50 } });
    opened.push(a);
    const alice = await EventClient.open(`${a.url}?seid=alice`);
    opened.push(alice);
    for (let i = 0; i < 5; i++) a.hub.send("alice", { data: `local-${i}` });
    await alice.waitForData("local-4");
    expect(a.errors).toHaveLength(1);
    expect(a.errors[0]).toBeInstanceOf(RedisUnavailableError);

    await proxy.restore();
    await waitFor(() => a.backplane.connected, "the backplane to connect", 20_000);
    const b = await startInstance({ url: REDIS_URL, prefix });
    opened.push(b);
    b.hub.send("alice", { data: "remote" });
    await alice.waitForData("remote");
    expect(a.errors).toHaveLength(1);
    // The first connection is not a recovery: nothing was missed, no stream is ended.
    expect(a.hub.stats().resyncs).toBe(0);
    expect(a.hub.size).toBe(1);
  });

  it("bounds what waits for a stalled Redis, reports it once, and recovers", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const a = await startInstance({ url: proxy.url, prefix, maxPendingCommands: 20 });
    opened.push(a);
    const b = await startInstance({ url: REDIS_URL, prefix });
    opened.push(b);
    const alice = await EventClient.open(`${a.url}?seid=alice`);
    opened.push(alice);
    const bob = await EventClient.open(`${b.url}?seid=bob`, { types: ["se-reset"] });
    opened.push(bob);
    a.hub.broadcast({ data: "before" });
    await bob.waitForData("before");
    const beforeId = bob.lastEventId;

    // Redis hangs: A's connection stays up, but nothing it sends is answered.
    proxy.stall();
    for (let i = 0; i < 200; i++) expect(a.hub.broadcast({ data: `stalled-${i}` }).local).toBe(1);
    await alice.waitForData("stalled-199");
    expect(a.backplane.connected).toBe(true);
    expect(a.errors).toHaveLength(1);
    expect(outageLogs(a)).toHaveLength(1);

    proxy.resume();
    await waitFor(() => queued(a.backplane.client) === 0, "Redis to answer what was waiting");
    await settle(bob, "bob", b, [a, b]);
    // The 20 publishes that were waiting went out; the other 180 stayed on A.
    const reached = withoutFences(bob.data).filter((data) => data.startsWith("stalled-"));
    expect(reached).toEqual(Array.from({ length: 20 }, (_, i) => `stalled-${i}`));
    expect(a.errors).toHaveLength(1);

    // The history knows it lost events: a client from before the stall is told to reset.
    const back = await EventClient.open(`${b.url}?seid=bob`, {
      lastEventId: beforeId,
      types: ["se-reset"],
    });
    opened.push(back);
    await waitFor(() => back.received.length > 0, "the reset event");
    expect(back.received[0]?.type).toBe("se-reset");

    // Redis answered again, so the next outage is reported again.
    await proxy.cut();
    await waitFor(() => a.errors.length === 2, "the next outage to be reported");
    expect(a.errors[1]).toBeInstanceOf(RedisUnavailableError);
  });

  it("reconnects with ioredis' backoff unless given a retryStrategy", () => {
    const backplane = new RedisBackplane({ url: REDIS_URL, prefix });
    opened.push(backplane);
    const retry = backplane.client.options.retryStrategy;
    if (typeof retry !== "function") throw new Error("no retryStrategy");
    const delays = [1, 3, 6, 20].map((times) => Number(retry(times)));
    expect(delays[0]).toBeLessThan(delays[1] as number);
    expect(delays[1]).toBeLessThan(delays[2] as number);
    expect(delays[3]).toBeGreaterThanOrEqual(5000);
    expect(delays[3]).toBeLessThanOrEqual(5200);

    const mine = () => 123;
    const custom = new RedisBackplane({ url: REDIS_URL, prefix, redis: { retryStrategy: mine } });
    opened.push(custom);
    expect(custom.client.options.retryStrategy).toBe(mine);
    expect(custom.client.options.enableOfflineQueue).toBe(false);
  });
});
