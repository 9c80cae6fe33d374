import { randomUUID } from "node:crypto";
import type { EventHub } from "@se/core";
import { SE, type SEOptions } from "@se/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import { RedisBackplane, type RedisBackplaneOptions } from "../src/index.js";

/** One app instance: Fastify with `@se/fastify`, a Redis backplane and the shared history. */
export interface Instance {
  readonly fastify: FastifyInstance;
  readonly hub: EventHub;
  readonly backplane: RedisBackplane;
  /** `http://127.0.0.1:<port>/events` */
  readonly url: string;
  /** What the hub reported through its `error` event. */
  readonly errors: unknown[];
  /** Lines Fastify logged at warn level or above, parsed. */
  readonly logs: { level: number; msg: string }[];
  close(): Promise<void>;
}

/**
 * Starts an instance on 127.0.0.1:0. `GET /events?seid=…&topics=a,b` opens a stream for
 * that seid (a random one without it), subscribed to those topics; with `&welcome=<text>`, it
 * first sends the connection a per-connection event with that data.
 */
export async function startInstance(
  options: RedisBackplaneOptions,
  seOptions: Omit<SEOptions, "backplane" | "history"> = {},
): Promise<Instance> {
  const backplane = new RedisBackplane(options);
  const se = new SE({
    heartbeatMs: false,
    ...seOptions,
    backplane,
    history: backplane.history(),
    seidGenerator: (request) => (request.query as { seid?: string }).seid ?? randomUUID(),
  });
  const errors: unknown[] = [];
  se.hub.on("error", (error) => errors.push(error));
  const logs: Instance["logs"] = [];
  const fastify = Fastify({
    logger: { level: "warn", stream: { write: (line: string) => logs.push(JSON.parse(line)) } },
    // The eventsource client keeps a spare socket open; don't wait for it on close.
    forceCloseConnections: true,
  });
  await fastify.register(se.plugin);
  fastify.get("/events", (request, reply) => {
    const { topics, welcome } = request.query as { topics?: string; welcome?: string };
    reply.sse.open();
    for (const topic of topics ? topics.split(",") : []) reply.sse.subscribe(topic);
    if (welcome !== undefined) reply.sse.send({ data: welcome });
  });
  await fastify.listen({ port: 0, host: "127.0.0.1" });
  await se.hub.ready();
  const address = fastify.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    fastify,
    hub: se.hub,
    backplane,
    url: `http://127.0.0.1:${address.port}/events`,
    errors,
    logs,
    close: () => fastify.close(),
  };
}
