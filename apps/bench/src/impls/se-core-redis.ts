/**
 * `@se/core` on `node:http` with the `@se/redis` backplane and shared replay history, as the
 * `@se/redis` README sets it up; every other default kept. `server.ts se-core+redis <prefix>`:
 * instances started with the same key prefix form one cluster.
 */
import { EventHub } from "@se/core";
import { openEventStream } from "@se/core/node";
import { redisBackplane } from "@se/redis";
import { REDIS_URL } from "../redis-admin.js";
import type { BenchServer } from "../server-kit.js";
import { serveHub } from "./se-core.js";

export async function start(args: string[]): Promise<BenchServer> {
  const prefix = args[0];
  if (!prefix) throw new Error("usage: server.ts se-core+redis <key prefix>");
  const backplane = redisBackplane({ url: REDIS_URL, prefix });
  const hub = new EventHub({ backplane, history: backplane.history() });
  // Lost publishes make the load generator fail the round; say why on stderr.
  hub.on("error", (error) => console.error("[se-core+redis]", error));
  await hub.ready();
  if (!backplane.connected) throw new Error(`the Redis backplane did not connect to ${REDIS_URL}`);
  return serveHub(hub, openEventStream);
}
