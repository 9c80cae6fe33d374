import type { Backplane } from "@se/core";

/**
 * Two-instance mode: loads `@se/redis` and connects its backplane to `url`, so a chat message,
 * a direct message or a progress event sent by one demo process reaches browsers connected
 * to another. Each instance keeps its own in-memory replay history, filled with what it
 * receives over the backplane, so `Last-Event-ID` replay works on whichever instance a
 * browser reconnects to.
 *
 * `@se/redis` is loaded only when REDIS_URL is set, so the demo runs without Redis.
 * @throws when `@se/redis` is not built or does not export `RedisBackplane`.
 */
export async function loadRedisBackplane(url: string): Promise<Backplane> {
  // A variable specifier keeps TypeScript and tsup from resolving the package at build time.
  const specifier = "@se/redis";
  let redis: Record<string, unknown>;
  try {
    redis = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    throw new Error(
      "REDIS_URL is set but @se/redis could not be loaded. Build it first " +
        "(pnpm --filter @se/redis build), or unset REDIS_URL to run a single instance.",
      { cause },
    );
  }
  const RedisBackplane = redis.RedisBackplane as
    | (new (options: {
        url: string;
      }) => Backplane)
    | undefined;
  if (typeof RedisBackplane !== "function") {
    throw new Error("@se/redis does not export RedisBackplane; update src/redis-backplane.ts.");
  }
  return new RedisBackplane({ url });
}
