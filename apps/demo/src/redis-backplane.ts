import type { RedisBackplane, RedisReplayHistory } from "@se/redis";

/** What two-instance mode gives the app: the backplane and the replay history it shares. */
export interface RedisSharing {
  readonly backplane: RedisBackplane;
  readonly history: RedisReplayHistory;
}

/** Key prefix of the demo in Redis (`<prefix>events`, `<prefix>history`). */
export const DEFAULT_REDIS_PREFIX = "se-demo:";

/**
 * Two-instance mode: connects `@se/redis` to `url`, so a chat message, a direct message or a
 * progress event sent by one demo process reaches browsers connected to any other, and the
 * replay history lives in Redis, so a browser that reconnects to another instance with
 * `Last-Event-ID` gets what it missed.
 *
 * `@se/redis` (and ioredis) are imported only here, when `REDIS_URL` is set, so the demo
 * runs without Redis. The hub closes both when the app closes.
 */
export async function connectRedis(
  url: string,
  prefix: string = DEFAULT_REDIS_PREFIX,
): Promise<RedisSharing> {
  const { redisBackplane } = await import("@se/redis");
  const backplane = redisBackplane({ url, prefix });
  return { backplane, history: backplane.history() };
}
