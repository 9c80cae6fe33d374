import { SeError } from "@se/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RedisUnavailableError } from "../src/index.js";
import { EventClient } from "./event-client.js";
import { startInstance } from "./instance.js";
import { deleteKeys, REDIS_URL, redisAvailable, uniquePrefix } from "./redis-test-env.js";
import { TcpProxy } from "./tcp-proxy.js";
import { waitFor } from "./wait-for.js";

describe.skipIf(!redisAvailable)("a Redis outage", () => {
  const prefix = uniquePrefix();
  const opened: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
  });
  afterAll(() => deleteKeys(prefix));

  it("keeps local sends working, reports once, and recovers", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const a = await startInstance({ url: proxy.url, prefix, redis: { retryStrategy: () => 50 } });
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
    for (let i = 0; i < 20; i++) {
      const delivery = a.hub.broadcast({ data: `local-${i}` });
      expect(delivery.local).toBe(1);
    }
    await alice.waitForData("local-19");
    b.hub.send("alice", { data: "during" });

    await proxy.restore();
    await waitFor(() => a.backplane.connected, "the backplane to reconnect", 20_000);
    b.hub.send("alice", { data: "after" });
    await alice.waitForData("after");
    a.hub.broadcast({ data: "from-a" });
    await bob.waitForData("from-a");

    expect(a.errors).toHaveLength(1);
    const [error] = a.errors;
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(SeError.isInstance(error) && error.code).toBe("SE_ERR_REDIS_UNAVAILABLE");
    expect(b.errors).toEqual([]);
    // Published while A was cut off: A's clients miss it (pub/sub keeps nothing).
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
  });
});
