import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { describe, expect, it } from "vitest";
import { type Instance, startInstance } from "./instance.js";
import { settle, withoutFences } from "./settle.js";
import { openClient, suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

describe.skipIf(!redisAvailable)("clients of instances through a Redis outage", () => {
  const { prefix, opened } = suiteScope("instance-outage", { failOnUnhandledRejection: true });

  const open = (url: string, lastEventId?: string) => openClient(opened, url, lastEventId);

  it("a cut-off instance's streams stay open: each gets what it missed once, in order, or a reset at the gap", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const a: Instance = await startInstance({
      url: proxy.url,
      prefix,
      redis: { retryStrategy: () => 50 },
    });
    opened.push(a);
    const b: Instance = await startInstance({ url: REDIS_URL, prefix });
    opened.push(b);
    const alice = await open(`${a.url}?seid=alice`);
    const bob = await open(`${b.url}?seid=bob`);
    const carol = await open(`${b.url}?seid=carol`);
    b.hub.broadcast({ data: "before" });
    await alice.waitForData("before");
    await carol.waitForData("before");
    carol.close();
    const connection = [...a.hub.connectionsOf("alice")][0];

    await proxy.cut();
    await waitFor(() => !a.backplane.connected, "A to notice the outage");
    const missed = Array.from({ length: 50 }, (_, i) => `missed-${i}`);
    for (const [i, data] of missed.entries()) {
      if (i % 2) b.hub.send("alice", { data });
      else b.hub.broadcast({ data });
    }
    // A cannot order its own sends: they are dropped, not delivered out of turn.
    expect(a.hub.broadcast({ data: "dropped" })).toMatchObject({ local: 0, published: true });
    await proxy.restore();
    await waitFor(() => a.backplane.connected, "A to reconnect", 20_000);
    b.hub.broadcast({ data: "after" });
    await alice.waitForData("after", 20_000);
    await bob.waitForData("after");

    const reset = JSON.stringify({ reason: "outage" });
    expect(alice.received.map((e) => (e.type === "se-reset" ? "<reset>" : e.data))).toEqual([
      "before",
      ...missed,
      "<reset>",
      "after",
    ]);
    expect(alice.received.find((e) => e.type === "se-reset")?.data).toContain('"outage"');
    expect(connection?.closed).toBe(false); // no resync: the stream stayed open
    expect(a.hub.connectionsOf("alice").size).toBe(1);
    expect(bob.data.filter((d) => !d.startsWith("missed-"))).toEqual(["before", reset, "after"]);
    expect(a.errors).toHaveLength(1);
    expect(b.errors).toEqual([]);

    // A client that was away replays across the gap on another instance: a reset at the gap.
    const back = await open(`${b.url}?seid=carol`, carol.lastEventId);
    await back.waitForData("after");
    const broadcasts = missed.filter((_, i) => i % 2 === 0);
    expect(back.received.map((e) => (e.type === "se-reset" ? "<reset>" : e.data))).toEqual([
      ...broadcasts,
      "<reset>",
      "after",
    ]);
    await settle(back, "carol", [a, b]);
    expect(withoutFences(back.data)).toHaveLength(broadcasts.length + 2);
  });
});
