import { SeError } from "@se/core";
import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisBackplane, RedisUnavailableError } from "../src/index.js";
import { type FakeHub, readStream, settleHubs, startFakeHub, testRedis } from "./fake-receiver.js";
import { expectExactOrGap, type Sent, sendLogged } from "./stream-check.js";
import { suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

const FAST_RETRY = { retryStrategy: () => 50 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Commands ioredis holds for a client: sent and unanswered, or queued while offline. */
function queued(client: Redis | undefined): number {
  const queues = client as unknown as {
    commandQueue: { length: number };
    offlineQueue: { length: number };
  };
  return queues.commandQueue.length + queues.offlineQueue.length;
}

describe.skipIf(!redisAvailable)("a Redis outage", () => {
  const { prefix, opened } = suiteScope("outage", { failOnUnhandledRejection: true });
  let n = 0;
  const fresh = () => `${prefix}${++n}:`;

  async function proxy(): Promise<TcpProxy> {
    const started = await TcpProxy.start(REDIS_URL);
    opened.push(started);
    return started;
  }

  async function hub(options: Parameters<typeof startFakeHub>[0]): Promise<FakeHub> {
    const started = await startFakeHub(options, { maxEvents: 100_000 });
    opened.push(started);
    return started;
  }

  /** A client the test owns, through `via`, reconnecting fast. */
  function given(via: TcpProxy): Redis {
    const client = new Redis(via.url, FAST_RETRY);
    client.on("error", () => {});
    opened.push({ close: () => client.disconnect() });
    return client;
  }

  it("(a) command connection back before the subscription: every event once, or a gap", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const [commands, subscription] = [await proxy(), await proxy()];
    const client = given(commands);
    const subscriber = given(subscription);
    const a = await hub({ prefix: scope, client, subscriber });
    const b = await hub({ prefix: scope });
    const log: Sent[] = [];
    sendLogged(log, a, "a-before");
    sendLogged(log, b, "b-before");
    await settleHubs(redis, `${scope}history`, [a, b]);

    await Promise.all([commands.cut(), subscription.cut()]);
    await waitFor(() => client.status !== "ready" && subscriber.status !== "ready", "A cut off");
    for (let i = 0; i < 50; i++) sendLogged(log, b, `b-during-${i}`);
    for (let i = 0; i < 20; i++) sendLogged(log, a, `a-dropped-${i}`, { kind: "seid", seid: "s" });
    await commands.restore();
    await waitFor(() => client.status === "ready", "A's command connection");
    for (let i = 0; i < 20; i++) sendLogged(log, a, `a-unsubscribed-${i}`);
    for (let i = 0; i < 10; i++) sendLogged(log, b, `b-later-${i}`);
    await settleHubs(redis, `${scope}history`, [b]);
    // Nothing delivered out of turn while A's subscription is away.
    expect(a.receiver.positions).toEqual(b.receiver.positions.slice(0, 2));
    await subscription.restore();
    await settleHubs(redis, `${scope}history`, [a, b]);

    const stream = await readStream(redis, `${scope}history`);
    expectExactOrGap([a, b], stream, log);
    const gaps = stream.filter((entry) => entry.kind === "g");
    expect(gaps.map((gap) => [gap.origin, gap.target])).toEqual([
      [a.receiver.instanceId, { kind: "seid", seid: "s" }],
    ]);
    expect(a.receiver.data).toContain("a-unsubscribed-19");
    expect(a.receiver.errors).toHaveLength(1);
    expect(b.receiver.errors).toEqual([]);
  });

  it("(b) one instance partitioned while it and the others send", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const cut = await proxy();
    const a = await hub({ prefix: scope, url: cut.url, redis: FAST_RETRY });
    const b = await hub({ prefix: scope });
    const c = await hub({ prefix: scope });
    const log: Sent[] = [];
    for (let i = 0; i < 300; i++) {
      if (i === 80) await cut.cut();
      if (i === 200) await cut.restore();
      for (const [name, sender] of [
        ["a", a],
        ["b", b],
        ["c", c],
      ] as const) {
        sendLogged(
          log,
          sender,
          `${name}-${i}`,
          i % 3 ? { kind: "all" } : { kind: "topic", topic: name },
        );
      }
      await sleep(2);
    }
    await waitFor(() => a.backplane.connected, "A to reconnect", 20_000);
    await settleHubs(redis, `${scope}history`, [a, b, c]);

    const stream = await readStream(redis, `${scope}history`);
    expectExactOrGap([a, b, c], stream, log);
    expect(
      stream.some((entry) => entry.kind === "g" && entry.origin === a.receiver.instanceId),
    ).toBe(true);
    expect(a.receiver.errors).toHaveLength(1);
    expect([...b.receiver.errors, ...c.receiver.errors]).toEqual([]);
  });

  it("(c) every instance cut for 3 s: every event once, in order, or a gap where it was lost", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const cut = await proxy();
    const hubs: FakeHub[] = [];
    for (let i = 0; i < 3; i++)
      hubs.push(await hub({ prefix: scope, url: cut.url, redis: FAST_RETRY }));
    const log: Sent[] = [];
    let sending = true;
    const senders = hubs.map(async (sender, h) => {
      for (let i = 0; sending; i++) {
        sendLogged(
          log,
          sender,
          `h${h}-${i}`,
          i % 2 ? { kind: "all" } : { kind: "seid", seid: `s${i % 5}` },
        );
        await sleep(3);
      }
    });
    await sleep(300);
    await cut.cut();
    await sleep(3000);
    await cut.restore();
    await waitFor(() => hubs.every((h) => h.backplane.connected), "every hub to reconnect", 20_000);
    await sleep(300);
    sending = false;
    await Promise.all(senders);
    await settleHubs(redis, `${scope}history`, hubs);

    const stream = await readStream(redis, `${scope}history`);
    expectExactOrGap(hubs, stream, log);
    for (const h of hubs) {
      expect(stream.some((e) => e.kind === "g" && e.origin === h.receiver.instanceId)).toBe(true);
      expect(h.receiver.errors).toHaveLength(1);
    }
  });

  it("bounds what waits for a stalled Redis, turns the rest into a gap, reports once", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const stall = await proxy();
    const a = await hub({ prefix: scope, url: stall.url, maxPendingCommands: 20 });
    const b = await hub({ prefix: scope });
    const log: Sent[] = [];
    sendLogged(log, a, "before");
    await settleHubs(redis, `${scope}history`, [a, b]);

    stall.stall();
    for (let i = 0; i < 200; i++) sendLogged(log, a, `stalled-${i}`);
    expect(queued(a.backplane.client)).toBe(20);
    expect(a.receiver.errors).toHaveLength(1);
    stall.resume();
    await waitFor(() => queued(a.backplane.client) === 0, "Redis to answer what was waiting");
    await settleHubs(redis, `${scope}history`, [a, b]);

    const stream = await readStream(redis, `${scope}history`);
    expectExactOrGap([a, b], stream, log);
    expect(b.receiver.data).toEqual([
      "before",
      ...Array.from({ length: 20 }, (_, i) => `stalled-${i}`),
      "<gap>",
    ]);
    expect(a.receiver.errors).toHaveLength(1);
    // Redis answered again, so the next outage is reported again.
    await stall.cut();
    await waitFor(() => a.receiver.errors.length === 2, "the next outage to be reported");
    expect(a.receiver.errors[1]).toBeInstanceOf(RedisUnavailableError);
    const error = a.receiver.errors[0];
    expect(SeError.isInstance(error) && error.code).toBe("SE_ERR_REDIS_UNAVAILABLE");
  });

  it("starts with Redis unreachable, rejects the start, and seeks once it is reachable", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const cut = await proxy();
    await cut.cut();
    const a = await hub({ prefix: scope, url: cut.url, redis: FAST_RETRY });
    const b = await hub({ prefix: scope });
    expect(a.receiver.seeks).toEqual([]);
    expect(a.receiver.errors).toEqual([]); // the rejected start is the hub's to report
    const log: Sent[] = [];
    sendLogged(log, a, "early", { kind: "seid", seid: "early" });
    await cut.restore();
    await waitFor(() => a.backplane.connected, "A to start", 20_000);
    sendLogged(log, b, "later");
    await settleHubs(redis, `${scope}history`, [a, b]);
    expect(a.receiver.seeks).toHaveLength(1);
    const stream = await readStream(redis, `${scope}history`);
    expectExactOrGap([a, b], stream, log);
    expect(b.receiver.data).toContain("<gap>");
  });

  it("reconnects with ioredis' backoff unless given a retryStrategy, and never queues", () => {
    const backplane = new RedisBackplane({ url: REDIS_URL, prefix: fresh() });
    opened.push(backplane);
    const retry = backplane.client.options.retryStrategy;
    if (typeof retry !== "function") throw new Error("no retryStrategy");
    const delays = [1, 3, 6, 20].map((times) => Number(retry(times)));
    expect(delays[0]).toBeLessThan(delays[1] as number);
    expect(delays[1]).toBeLessThan(delays[2] as number);
    expect(delays[3]).toBeGreaterThanOrEqual(5000);
    expect(delays[3]).toBeLessThanOrEqual(5200);

    const mine = () => 123;
    const custom = new RedisBackplane({
      url: REDIS_URL,
      prefix: fresh(),
      redis: { retryStrategy: mine },
    });
    opened.push(custom);
    expect(custom.client.options.retryStrategy).toBe(mine);
    expect(custom.client.options.enableOfflineQueue).toBe(false);
  });
});
