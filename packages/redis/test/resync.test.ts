import { type CloseReason, SeOptionError } from "@se/core";
import { EventClient, REDIS_URL, redisAvailable, waitFor } from "@se/test-support";
import { describe, expect, it } from "vitest";
import { RedisBackplane, type RedisBackplaneOptions } from "../src/index.js";
import { type Instance, startInstance } from "./instance.js";
import { suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

const MISSED = 50;

describe("resyncOnRecovery", () => {
  it("must be a boolean", () => {
    expect(() => new RedisBackplane({ resyncOnRecovery: "yes" as never })).toThrow(SeOptionError);
  });
});

describe.skipIf(!redisAvailable)("after the subscription was lost", () => {
  const { prefix, opened } = suiteScope("resync", { failOnUnhandledRejection: true });

  /**
   * A behind a proxy (with a short `retry` so its clients come back quickly), B direct, and
   * alice's stream on A, which has received "before" from B.
   */
  async function setUp(options: Pick<RedisBackplaneOptions, "resyncOnRecovery"> = {}) {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const a = await startInstance(
      { url: proxy.url, prefix, redis: { retryStrategy: () => 50 }, ...options },
      { retry: 100 },
    );
    opened.push(a);
    const b = await startInstance({ url: REDIS_URL, prefix });
    opened.push(b);
    const reasons: CloseReason[] = [];
    a.hub.on("disconnect", (_connection, reason) => reasons.push(reason));
    const alice = await EventClient.open(`${a.url}?seid=alice`, { types: ["se-reset"] });
    opened.push(alice);
    b.hub.send("alice", { data: "before" });
    await alice.waitForData("before");
    return { proxy, a, b, alice, reasons };
  }

  /** Cuts A off Redis and waits until both of its connections have noticed. */
  async function cut(proxy: TcpProxy, a: Instance): Promise<void> {
    await proxy.cut();
    await waitFor(
      () => a.backplane.client.status !== "ready" && a.backplane.subscriber?.status !== "ready",
      "A's connections to notice the outage",
    );
  }

  async function restore(proxy: TcpProxy, a: Instance): Promise<void> {
    await proxy.restore();
    await waitFor(() => a.backplane.connected, "A's backplane to reconnect", 20_000);
  }

  function missedData(): string[] {
    return Array.from({ length: MISSED }, (_, i) => `missed-${i}`);
  }

  it("ends A's streams; the client reconnects and replays B's events, each once, in order", async () => {
    const { proxy, a, b, alice, reasons } = await setUp();
    expect(a.backplane.resyncOnRecovery).toBe(true);
    const connection = [...a.hub.connectionsOf("alice")][0];

    await cut(proxy, a);
    const sent = missedData().map((data, i) =>
      i % 2 === 0 ? b.hub.send("alice", { data }).id : b.hub.broadcast({ data }).id,
    );
    expect(reasons).toEqual([]);

    await restore(proxy, a);
    await alice.waitForData(`missed-${MISSED - 1}`, 20_000);
    b.hub.send("alice", { data: "after" });
    await alice.waitForData("after");

    expect(alice.data).toEqual(["before", ...missedData(), "after"]);
    expect(alice.received.slice(1, -1).map((event) => event.id)).toEqual(sent);
    expect(reasons).toEqual(["resync"]);
    expect(connection?.closeReason).toBe("resync");
    expect(a.hub.stats()).toMatchObject({ resyncs: 1, replayedEvents: MISSED, resets: 0 });
    expect(a.hub.connectionsOf("alice").size).toBe(1);
    expect(a.errors).toHaveLength(1);
    expect(b.hub.stats().resyncs).toBe(0);
  });

  it("tells the client to reset when A's own sends during the outage were not stored", async () => {
    const { proxy, a, b, alice, reasons } = await setUp();

    await cut(proxy, a);
    b.hub.send("alice", { data: "missed" });
    a.hub.send("alice", { data: "local" });
    await alice.waitForData("local");

    await restore(proxy, a);
    await waitFor(
      () => alice.received.some((event) => event.type === "se-reset"),
      "the reset event",
      20_000,
    );
    expect(reasons).toEqual(["resync"]);
    expect(alice.data.slice(0, 2)).toEqual(["before", "local"]);
    expect(alice.data).not.toContain("missed");
    expect(a.hub.stats()).toMatchObject({ resyncs: 1, resets: 1 });
  });

  it("with resyncOnRecovery: false, keeps the stream open (and it misses B's events)", async () => {
    const { proxy, a, b, alice, reasons } = await setUp({ resyncOnRecovery: false });
    expect(a.backplane.resyncOnRecovery).toBe(false);
    const connection = [...a.hub.connectionsOf("alice")][0];

    await cut(proxy, a);
    for (const data of missedData()) b.hub.send("alice", { data });

    await restore(proxy, a);
    b.hub.send("alice", { data: "after" });
    await alice.waitForData("after");

    expect(alice.data).toEqual(["before", "after"]);
    expect(reasons).toEqual([]);
    expect(connection?.closed).toBe(false);
    expect([...a.hub.connectionsOf("alice")]).toEqual([connection]);
    expect(a.hub.stats()).toMatchObject({ resyncs: 0, replayedEvents: 0 });
  });
});
