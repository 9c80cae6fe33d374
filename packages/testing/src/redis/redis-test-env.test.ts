import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { probeRedis } from "./probe-redis.js";
import { deleteKeys, REDIS_URL, redisAvailable, uniquePrefix } from "./redis-test-env.js";

describe("probeRedis", () => {
  it("names the URL and the reason when nothing answers", async () => {
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    expect(probeRedis(`redis://user:secret@127.0.0.1:${port}`)).toBe(
      `no Redis at redis://***@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });
});

describe.skipIf(!redisAvailable)("the Redis test environment (needs Redis at REDIS_URL)", () => {
  it("probes the real Redis as available", () => {
    expect(probeRedis(REDIS_URL)).toBeUndefined();
  });

  it("deleteKeys removes the keys under a unique prefix and nothing else", async () => {
    const prefix = uniquePrefix("testing");
    expect(prefix).toMatch(/^se-test:testing:[0-9a-f-]{36}:$/);
    const other = uniquePrefix("testing");
    const client = new Redis(REDIS_URL);
    try {
      await client.mset(`${prefix}a`, "1", `${prefix}b`, "2", `${other}c`, "3");
      await deleteKeys(prefix);
      expect(await client.exists(`${prefix}a`, `${prefix}b`)).toBe(0);
      expect(await client.get(`${other}c`)).toBe("3");
    } finally {
      await deleteKeys(other);
      await client.quit();
    }
  });
});
