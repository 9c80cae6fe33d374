import type { HistoryEntry, Target } from "@se/core";
import { REDIS_URL, redisAvailable } from "@se/test-support";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisReplayHistory } from "../src/index.js";
import { suiteScope } from "./suite-scope.js";

const ALL: Target = { kind: "all" };

function entry(n: number, target: Target = ALL, time = Date.now()): HistoryEntry {
  const id = `${String(n).padStart(16, "0")}-test`;
  return { id, target, frame: `id: ${id}\ndata: ${n}\n\n`, time };
}

describe.skipIf(!redisAvailable)("RedisReplayHistory", () => {
  const { prefix, opened } = suiteScope();

  async function history(
    options: ConstructorParameters<typeof RedisReplayHistory>[0] = {},
  ): Promise<RedisReplayHistory> {
    const result = new RedisReplayHistory({
      url: REDIS_URL,
      prefix: `${prefix}${opened.length}:`,
      ...options,
    });
    opened.push(result);
    await result.ready();
    return result;
  }

  it("returns the entries after an id, oldest first, with their targets", async () => {
    const store = await history();
    const entries = [
      entry(1),
      entry(2, { kind: "seid", seid: "alice" }),
      entry(3, { kind: "topic", topic: "news" }),
    ];
    for (const item of entries) store.append(item);
    expect(await store.since(entries[0]?.id as string)).toEqual(entries.slice(1));
    expect(await store.since(entries[2]?.id as string)).toEqual([]);
  });

  it("answers undefined for an id it does not hold", async () => {
    const store = await history();
    store.append(entry(1));
    expect(await store.since("0000000000000099-test")).toBeUndefined();
  });

  it("keeps about maxEvents entries", async () => {
    const store = await history({ maxEvents: 10 });
    for (let n = 1; n <= 1000; n++) store.append(entry(n));
    expect(await store.since(entry(1).id)).toBeUndefined();
    expect(await store.since(entry(999).id)).toEqual(
      [entry(1000)].map((e) => ({ ...e, time: expect.any(Number) })),
    );
    expect(await store.client.xlen(store.key)).toBeLessThan(1000);
  });

  it("treats an id older than maxAgeMs, with events after it, as too far behind", async () => {
    const store = await history({ maxAgeMs: 60_000 });
    store.append(entry(1, ALL, Date.now() - 120_000));
    store.append(entry(2));
    expect(await store.since(entry(1).id)).toBeUndefined();
    expect(await store.since(entry(2).id)).toEqual([]);
  });

  it("shares the stream between instances under the same prefix", async () => {
    const shared = `${prefix}shared:`;
    const one = new RedisReplayHistory({ url: REDIS_URL, prefix: shared });
    opened.push(one);
    const client = new Redis(REDIS_URL);
    opened.push({ close: () => client.quit() });
    const two = new RedisReplayHistory({ client, prefix: shared });
    opened.push(two);
    await one.ready();
    await two.ready();
    one.append(entry(1));
    one.append(entry(2));
    await one.client.ping();
    expect(await two.since(entry(1).id)).toEqual(
      [entry(2)].map((e) => ({ ...e, time: expect.any(Number) })),
    );
  });

  it("rejects since when closed, and ignores appends", async () => {
    const store = await history();
    await store.close();
    store.append(entry(1));
    await expect(store.since(entry(1).id)).rejects.toThrow(/Redis is unavailable/);
  });

  it("rejects bad limits", () => {
    // Checked before any connection is opened.
    expect(() => new RedisReplayHistory({ maxEvents: 0 })).toThrow(/maxEvents/);
    expect(() => new RedisReplayHistory({ timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
