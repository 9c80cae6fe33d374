import { SeError, SeOptionError } from "@se/core";
import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisBackplane, RedisReplayHistory, RedisUnavailableError } from "../src/index.js";
import { type FakeHub, settleHubs, startFakeHub, testRedis } from "./fake-receiver.js";
import { suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

describe.skipIf(!redisAvailable)("RedisReplayHistory (backplane.history())", () => {
  const { prefix, opened } = suiteScope("history");
  let n = 0;
  const fresh = () => `${prefix}${++n}:`;

  async function hub(scope: string, options = {}): Promise<FakeHub> {
    const started = await startFakeHub({ prefix: scope }, options);
    opened.push(started);
    return started;
  }

  it("returns the entries after a position, oldest first, as they were delivered", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await hub(scope);
    a.send("one");
    a.send("two", { target: { kind: "seid", seid: "alice" } });
    a.send("three", { target: { kind: "topic", topic: "news" }, id: "n3" });
    await settleHubs(redis, `${scope}history`, [a]);
    const [one, two, three] = a.receiver.received;
    const slice = await a.history.since(one?.position as string);
    expect(slice).toEqual({
      position: one?.position,
      entries: [two, three].map((envelope) => ({
        id: envelope?.id,
        position: envelope?.position,
        target: envelope?.target,
        frame: envelope?.frame,
        time: Number(envelope?.position?.split("-")[0]),
      })),
    });
    expect(await a.history.since(three?.position as string)).toEqual({
      position: three?.position,
      entries: [],
    });
  });

  it("resolves a caller's id to its position, also on another instance", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await hub(scope);
    const b = await hub(scope);
    a.send("mine", { id: "custom-1" });
    b.send("next");
    await settleHubs(redis, `${scope}history`, [a, b]);
    const slice = await b.history.since("custom-1");
    expect(slice?.position).toBe(a.receiver.positions[0]);
    expect(slice?.entries.map((entry) => entry.frame)).toEqual([a.receiver.received[1]?.frame]);
  });

  it("answers undefined for an unknown id, a position not in the stream, or a trimmed one", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await hub(scope, { maxEvents: 10 });
    a.send("first");
    await settleHubs(redis, `${scope}history`, [a]);
    const first = a.receiver.positions[0] as string;
    expect(await a.history.since("nobody")).toBeUndefined();
    expect(await a.history.since("1-1")).toBeUndefined();
    for (let i = 0; i < 500; i++) a.send(`more-${i}`);
    await settleHubs(redis, `${scope}history`, [a]);
    expect(await redis.xlen(`${scope}history`)).toBeLessThan(500);
    expect(await a.history.since(first)).toBeUndefined();
  });

  it("returns only entries that have an id, and gaps", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await hub(scope);
    a.send("start");
    a.send("no id", { autoId: false });
    a.send("with id");
    await settleHubs(redis, `${scope}history`, [a]);
    await redis.xadd(
      `${scope}history`,
      "*",
      "k",
      "g",
      "p",
      JSON.stringify({ o: "x", t: { kind: "topic", topic: "news" } }),
    );
    a.send("after the gap");
    await settleHubs(redis, `${scope}history`, [a]);
    const slice = await a.history.since(a.receiver.positions[0] as string);
    expect(
      slice?.entries.map((entry) => [entry.id === undefined, entry.gap, entry.target]),
    ).toEqual([
      [false, undefined, { kind: "all" }],
      [true, true, { kind: "topic", topic: "news" }],
      [false, undefined, { kind: "all" }],
    ]);
    expect(a.receiver.data).toEqual(["start", "no id", "with id", "<gap>", "after the gap"]);
  });

  it("answers in pages of pageSize with more, past entries it does not return", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await hub(scope, { pageSize: 3 });
    a.send("start");
    for (let i = 0; i < 5; i++) a.send(`hidden-${i}`, { autoId: false });
    for (let i = 0; i < 7; i++) a.send(`e${i}`);
    await settleHubs(redis, `${scope}history`, [a]);
    const pages: string[][] = [];
    let key = a.receiver.positions[0] as string;
    for (let page = 0; page < 10; page++) {
      const slice = await a.history.since(key);
      if (slice === undefined) throw new Error("stale");
      pages.push(slice.entries.map((entry) => /data: (.*)/.exec(entry.frame)?.[1] ?? ""));
      if (!slice.more) break;
      key = slice.entries.at(-1)?.position as string;
    }
    expect(pages).toEqual([["e0", "e1", "e2"], ["e3", "e4", "e5"], ["e6"]]);
  });

  it("treats a position older than maxAgeMs with entries after it as too far behind", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const old = `${Date.now() - 120_000}-0`;
    const payload = JSON.stringify({ o: "x", t: { kind: "all" }, f: "data: old\n\n", a: 1 });
    await redis.xadd(`${scope}history`, old, "k", "e", "p", payload);
    const a = await hub(scope, { maxAgeMs: 60_000 });
    expect(a.receiver.seeks).toEqual([old]);
    // The newest entry, however old, is known: a client that missed nothing is not reset.
    expect(await a.history.since(old)).toEqual({ position: old, entries: [] });
    a.send("new");
    await settleHubs(redis, `${scope}history`, [a]);
    expect(await a.history.since(old)).toBeUndefined();
    expect(await a.history.since(a.receiver.positions[0] as string)).toMatchObject({ entries: [] });
  });

  it("never answers past what this instance has delivered; a position it has not reached gives nothing to replay, at once", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const subscriber = new Redis(proxy.url, { retryStrategy: () => 50 });
    subscriber.on("error", () => {});
    opened.push({ close: () => subscriber.disconnect() });
    const a = await startFakeHub({ prefix: scope, subscriber });
    opened.push(a);
    const b = await hub(scope);
    b.send("before");
    await settleHubs(redis, `${scope}history`, [a, b]);
    const before = a.receiver.positions[0] as string;

    await proxy.cut();
    await waitFor(() => subscriber.status !== "ready", "A's subscriber to notice");
    b.send("one");
    b.send("two");
    await settleHubs(redis, `${scope}history`, [b]);
    const [one, two] = b.receiver.positions.slice(1) as [string, string];
    // A has not delivered "one" and "two" yet: a replay on A stops where A's live events are.
    expect(await a.history.since(before)).toEqual({ position: before, entries: [] });
    // A client that came from B holds "one": A has nothing to replay to it (the hub then skips
    // A's live events up to "one" as A delivers them, so "two" comes once, live).
    expect(await a.history.since(one)).toEqual({ position: one, entries: [] });
    await proxy.restore();
    await waitFor(() => a.receiver.positions.includes(two), "A to catch up");
    expect(a.receiver.positions).toEqual(b.receiver.positions);
    expect(await a.history.since(one)).toMatchObject({
      position: one,
      entries: [{ position: two }],
    });
  });

  it("rejects when the backplane is closed", async () => {
    const scope = fresh();
    const a = await hub(scope);
    await a.backplane.close();
    await expect(a.history.since("1-0")).rejects.toBeInstanceOf(RedisUnavailableError);
  });

  it("is made by a backplane only, once, with valid limits", () => {
    expect(() => new RedisReplayHistory({ url: REDIS_URL } as never)).toThrow(
      expect.objectContaining({ code: "SE_ERR_INVALID_OPTION" }),
    );
    expect(() => new RedisReplayHistory({ url: REDIS_URL } as never)).toThrow(SeError);
    const backplane = new RedisBackplane({ url: REDIS_URL, prefix: fresh() });
    opened.push(backplane);
    expect(() => backplane.history({ maxEvents: 0 })).toThrow(SeOptionError);
    expect(() => backplane.history({ maxAgeMs: -1 })).toThrow(/maxAgeMs/);
    expect(() => backplane.history({ pageSize: 1.5 })).toThrow(/pageSize/);
    const history = backplane.history({ maxEvents: 50 });
    expect(history).toMatchObject({
      maxEvents: 50,
      maxAgeMs: 300_000,
      pageSize: 500,
      shared: true,
    });
    expect(() => backplane.history()).toThrow(/one history per backplane/);
  });
});
