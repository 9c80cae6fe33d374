import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { probeRedis } from "./probe-redis.js";

export { probeRedis };

/** The Redis the tests use: `REDIS_URL`, or the machine's at 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** `SE_REQUIRE_REDIS=1` (set in CI): a missing Redis fails the import instead of skipping. */
export const REDIS_REQUIRED = process.env.SE_REQUIRE_REDIS === "1";

/** Why `REDIS_URL` cannot be used (probed once, at import), or `undefined` when it answers. */
export const redisUnavailableReason: string | undefined = probeRedis(REDIS_URL);
if (redisUnavailableReason !== undefined) {
  if (REDIS_REQUIRED) throw new Error(`SE_REQUIRE_REDIS=1 but ${redisUnavailableReason}`);
  console.warn(
    `SKIPPING the tests that need Redis: ${redisUnavailableReason}. Set REDIS_URL or start ` +
      "Redis; SE_REQUIRE_REDIS=1 makes this a failure.",
  );
}

/** False when no Redis is reachable (and `SE_REQUIRE_REDIS` is not set): skip those suites. */
export const redisAvailable = redisUnavailableReason === undefined;

/** A key prefix no other test run uses, e.g. `se-test:demo:<uuid>:` for scope `demo`. */
export function uniquePrefix(scope?: string): string {
  return `se-test:${scope ? `${scope}:` : ""}${randomUUID()}:`;
}

/** Deletes every key under `prefix` (SCAN, bounded), leaving everything else alone. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    for (let round = 0; round < 1000; round++) {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
      if (cursor === "0") break;
    }
  } finally {
    await client.quit();
  }
}
