import { Redis, type RedisOptions } from "ioredis";

/** How `@se/redis` reaches Redis: a URL and/or options (it opens the connections), or a client you own. */
export interface RedisConnectionOptions {
  /** A Redis URL such as `redis://user:pass@host:6379/0`. @default "redis://127.0.0.1:6379" when no `client` is given */
  url?: string;
  /**
   * ioredis options for the connections se opens (merged over `url`). se always sets
   * `enableOfflineQueue: false`, `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`
   * on them, so nothing is buffered or re-sent (twice) while Redis is away. Reconnection
   * follows `retryStrategy` (ioredis default: exponential backoff up to 5 s).
   */
  redis?: RedisOptions;
  /** A client you opened, used for commands (publish, history). se never closes it. */
  client?: Redis;
}

/** Options se forces on the connections it opens. */
export const OWN_CONNECTION_OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  lazyConnect: false,
} satisfies RedisOptions;

/** Opens a client from `url`/`redis`. */
export function openClient(options: RedisConnectionOptions, extra: RedisOptions = {}): Redis {
  const merged = { ...options.redis, ...OWN_CONNECTION_OPTIONS, ...extra };
  return options.url === undefined ? new Redis(merged) : new Redis(options.url, merged);
}

/**
 * Closes a client se opened: `QUIT` when connected, else disconnects. Resolves once its
 * status is `end`, or after `timeoutMs` at most. A client waiting to reconnect has no socket
 * to close: `disconnect()` cancels its reconnection, but ioredis leaves its status at
 * `reconnecting` (redis/ioredis#1247).
 */
export async function closeClient(client: Redis, timeoutMs = 2000): Promise<void> {
  if (hasEnded(client)) return;
  if (client.status === "reconnecting" || client.status === "wait") {
    client.disconnect();
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = new Promise<void>((resolve) => {
    client.once("end", () => resolve());
    timer = setTimeout(resolve, timeoutMs);
  });
  if (client.status === "ready") client.quit().catch(() => client.disconnect());
  else client.disconnect();
  await done;
  clearTimeout(timer);
  if (!hasEnded(client)) client.disconnect();
}

function hasEnded(client: Redis): boolean {
  return client.status === "end";
}
