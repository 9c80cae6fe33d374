import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** The Redis the tests use: REDIS_URL, or the machine's at 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** CI sets SE_REQUIRE_REDIS=1: then a missing Redis fails the run instead of skipping it. */
export const REDIS_REQUIRED = process.env.SE_REQUIRE_REDIS === "1";

/** Why Redis cannot be used, or `undefined` when it answers PING. */
async function probe(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
  });
  let socketError: Error | undefined;
  client.on("error", (error: Error) => {
    socketError = error;
  });
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `no Redis at ${REDIS_URL} (${(socketError ?? (error as Error)).message})`;
  } finally {
    client.disconnect();
  }
}

const unavailable = await probe();
if (unavailable !== undefined) {
  if (REDIS_REQUIRED) throw new Error(`SE_REQUIRE_REDIS=1 but ${unavailable}`);
  console.warn(
    `SKIPPING the tests that need Redis: ${unavailable}. Set REDIS_URL or start Redis; ` +
      "SE_REQUIRE_REDIS=1 makes this a failure.",
  );
}

/** False when no Redis is reachable (and SE_REQUIRE_REDIS is not set): the Redis suites skip. */
export const redisAvailable = unavailable === undefined;

/** A key prefix no other test run uses, e.g. `se-test:demo:<uuid>:` for scope `demo`. */
export function uniquePrefix(scope?: string): string {
  return `se-test:${scope ? `${scope}:` : ""}${randomUUID()}:`;
}

/** Deletes every key under `prefix` (SCAN, bounded), leaving everything else alone. */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
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
