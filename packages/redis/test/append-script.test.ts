import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { readStream, settleHubs, startFakeHub, testRedis } from "./fake-receiver.js";
import { suiteScope } from "./suite-scope.js";

const POSITION = /^\d+-\d+$/;

describe.skipIf(!redisAvailable)("a shared send: one script appends and publishes it", () => {
  const { prefix, opened } = suiteScope("append");
  let n = 0;
  const fresh = () => `${prefix}${++n}:`;

  it("starts on an empty stream by writing the origin marker, and seeks to it", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await startFakeHub({ prefix: scope });
    opened.push(a);
    const stream = await readStream(redis, `${scope}history`);
    expect(stream).toEqual([
      { position: expect.stringMatching(POSITION), kind: "o", origin: a.receiver.instanceId },
    ]);
    expect(a.receiver.seeks).toEqual([stream[0]?.position]);
    expect(a.backplane.connected).toBe(true);

    a.send("one");
    await settleHubs(redis, `${scope}history`, [a]);
    // A second instance starts at the newest entry, writing nothing.
    const b = await startFakeHub({ prefix: scope });
    opened.push(b);
    expect(b.receiver.seeks).toEqual([a.receiver.positions[0]]);
    expect(await redis.xlen(`${scope}history`)).toBe(2);
  });

  it("gives the sender its own send back from Redis, with the position as id", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await startFakeHub({ prefix: scope });
    opened.push(a);
    a.send("hello", { target: { kind: "topic", topic: "news" } });
    expect(a.receiver.received).toEqual([]); // nothing before Redis ordered it
    await settleHubs(redis, `${scope}history`, [a]);
    const [entry] = await readStream(redis, `${scope}history`).then((s) => s.slice(1));
    const position = entry?.position as string;
    expect(entry).toMatchObject({ kind: "e", target: { kind: "topic", topic: "news" } });
    expect(a.receiver.received).toEqual([
      {
        origin: a.receiver.instanceId,
        target: { kind: "topic", topic: "news" },
        frame: `id: ${position}\ndata: hello\n\n`,
        id: position,
        position,
      },
    ]);
  });

  it("keeps a caller's id as the wire id, resolvable for maxAgeMs; no id without autoId", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await startFakeHub({ prefix: scope }, { maxAgeMs: 60_000 });
    opened.push(a);
    a.send("mine", { id: "order-7" });
    a.send("anonymous", { autoId: false });
    await settleHubs(redis, `${scope}history`, [a]);
    const [mine, anonymous] = a.receiver.received;
    expect(mine).toMatchObject({ id: "order-7", frame: "id: order-7\ndata: mine\n\n" });
    expect(await redis.get(`${scope}id:order-7`)).toBe(mine?.position);
    const ttl = await redis.pttl(`${scope}id:order-7`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(anonymous).toEqual({
      origin: a.receiver.instanceId,
      target: { kind: "all" },
      frame: "data: anonymous\n\n",
      position: anonymous?.position,
    });
    expect((await readStream(redis, `${scope}history`)).map((e) => e.kind)).toEqual([
      "o",
      "e",
      "n",
    ]);
  });

  it("publishes each entry with the position before it", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const listener = new Redis(REDIS_URL);
    opened.push({ close: () => listener.quit() });
    const messages: string[] = [];
    listener.on("message", (_channel, message) => messages.push(message));
    await listener.subscribe(`${scope}events`);
    const a = await startFakeHub({ prefix: scope });
    opened.push(a);
    for (let i = 0; i < 5; i++) a.send(`m${i}`);
    await settleHubs(redis, `${scope}history`, [a]);
    await waitFor(() => messages.length === 6, "the marker and 5 messages");
    const positions = (await readStream(redis, `${scope}history`)).map((e) => e.position);
    expect(messages.map((m) => m.split(" ").slice(0, 3))).toEqual(
      positions.map((position, i) => [i === 0 ? "0-0" : positions[i - 1], position, i ? "e" : "o"]),
    );
  });

  it("never lets a caller's id change the generated ones (hole 6)", async () => {
    const scope = fresh();
    const redis = testRedis(opened);
    const a = await startFakeHub({ prefix: scope });
    opened.push(a);
    const b = await startFakeHub({ prefix: scope });
    opened.push(b);
    a.send("big", { id: "9999999999999999-x" });
    a.send("big-2", { id: "99999999999999999999" });
    for (let i = 0; i < 10; i++) (i % 2 ? a : b).send(`after-${i}`);
    await settleHubs(redis, `${scope}history`, [a, b]);

    const generated = b.receiver.received.slice(2).map((envelope) => envelope.id as string);
    expect(generated).toHaveLength(10);
    expect(new Set(generated).size).toBe(10);
    expect(generated.every((id) => POSITION.test(id))).toBe(true);
    const numbers = generated.map((id) => id.split("-").map(Number) as [number, number]);
    for (let i = 1; i < numbers.length; i++) {
      const [ms, seq] = numbers[i] as [number, number];
      const [prevMs, prevSeq] = numbers[i - 1] as [number, number];
      expect(ms > prevMs || (ms === prevMs && seq > prevSeq)).toBe(true);
    }
    // Replay from the caller's id works, on either instance.
    const slice = await b.history.since("9999999999999999-x");
    expect(slice?.entries.map((entry) => entry.id)).toEqual(["99999999999999999999", ...generated]);
    expect(a.receiver.data).toEqual(b.receiver.data);
  });
});
