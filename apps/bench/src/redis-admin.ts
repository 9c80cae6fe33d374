/** The redis scenario's side of Redis: is it there, and deleting a run's keys afterwards. */
import { Redis } from "ioredis";

export const REDIS_URL = "redis://127.0.0.1:6379";

/** Runs `use` with a short-lived connection to {@link REDIS_URL} that gives up fast. */
async function withRedis<T>(use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Why Redis cannot be used for the scenario, or undefined when it answers PING. */
export async function redisUnreachable(): Promise<string | undefined> {
  try {
    await withRedis((redis) => redis.ping());
    return undefined;
  } catch (error) {
    return `Redis is not reachable at ${REDIS_URL} (${(error as Error).message})`;
  }
}

/** Deletes every key that starts with `prefix` (SCAN, bounded); returns how many. */
export function deleteKeys(prefix: string): Promise<number> {
  if (!/^[\w.:-]+$/.test(prefix)) throw new Error(`unsafe key prefix ${prefix}`);
  return withRedis(async (redis) => {
    let cursor = "0";
    let deleted = 0;
    for (let pass = 0; pass < 10_000; pass++) {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
      if (cursor === "0") break;
    }
    return deleted;
  });
}
