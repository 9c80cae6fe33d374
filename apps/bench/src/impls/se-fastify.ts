/**
 * `@se/fastify`: the plugin, `reply.sse.open()`, `fastify.se.broadcast`, every default kept.
 * Arguments (see `server-args.ts`): `backlog=N`; `redis=<prefix>` adds the `@se/redis`
 * backplane and shared history as its README sets them up; `before=<dir>` loads
 * `@se/fastify` (and the `@se/core` it depends on) and `@se/redis` from another checkout's
 * build, e.g. a worktree of the commit before a change (`BENCH_SE_BEFORE_DIR`).
 */
import { pathToFileURL } from "node:url";
import type * as SeFastify from "@se/fastify";
import type * as SeRedis from "@se/redis";
import Fastify from "fastify";
import { REDIS_URL } from "../redis-admin.js";
import { parseServerArgs } from "../server-args.js";
import type { BenchServer } from "../server-kit.js";
import { listenFastify } from "./listen.js";

function load<T>(name: "fastify" | "redis", before: string | undefined): Promise<T> {
  if (before === undefined) return import(`@se/${name}`) as Promise<T>;
  return import(pathToFileURL(`${before}/packages/${name}/dist/index.js`).href) as Promise<T>;
}

export async function start(args: string[]): Promise<BenchServer> {
  const options = parseServerArgs(args);
  const { SE } = await load<typeof SeFastify>("fastify", options.before);
  let se: SeFastify.SE;
  if (options.redis === undefined) {
    se = new SE();
  } else {
    const { redisBackplane } = await load<typeof SeRedis>("redis", options.before);
    const backplane = redisBackplane({ url: REDIS_URL, prefix: options.redis });
    se = new SE({ backplane, history: backplane.history() });
    se.hub.on("error", (error) => console.error("[se-fastify+redis]", error));
  }
  const app = Fastify();
  await app.register(se.plugin);
  app.get("/events", (_request, reply) => {
    reply.sse.open();
  });
  const send = (data: string): void => {
    app.se.broadcast({ data });
  };
  const self = { clients: () => se.hub.size, send, resync: () => se.hub.resync() };
  return { ...self, port: await listenFastify(app, self, options.backlog) };
}
