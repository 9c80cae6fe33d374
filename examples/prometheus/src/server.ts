import { randomUUID } from "node:crypto";
import { SE, type SEOptions } from "@se/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { registerSeMetrics } from "./se-metrics.js";

/** The app and the registry its `/metrics` route serves. */
export interface MetricsApp {
  readonly app: FastifyInstance;
  readonly registry: Registry;
}

/**
 * A Fastify app on `@se/fastify` with Prometheus metrics of its hub:
 * - `GET /events?seid=alice&topic=news` opens an event stream (seid and topics optional),
 * - `POST /broadcast?topic=news` (JSON body) sends to everyone or to a topic,
 * - `GET /metrics` is the Prometheus text exposition of `registry`.
 *
 * `options` are `@se/fastify`'s (caps such as `maxConnectionsPerSeid`, a backplane, …).
 * Pass your own `registry` to add process metrics (`collectDefaultMetrics`) or others.
 */
export async function buildApp(
  options: SEOptions = {},
  registry: Registry = new Registry(),
): Promise<MetricsApp> {
  const app = Fastify();
  const se = new SE({
    seidGenerator: (request) => (request.query as { seid?: string }).seid ?? randomUUID(),
    ...options,
  });
  // Before the plugin is registered: registering waits until the backplane (if any) is up,
  // and the metrics must be listening when it says so.
  const stop = registerSeMetrics({ hub: se.hub, registry });
  app.addHook("onClose", async () => stop());
  await app.register(se.plugin);

  app.get("/events", (request, reply) => {
    const { topic } = request.query as { topic?: string | string[] };
    reply.sse.open({ topics: [topic ?? []].flat() });
  });

  app.post("/broadcast", async (request) => {
    const { topic } = request.query as { topic?: string };
    return app.se.broadcast({ data: request.body }, topic === undefined ? {} : { topic });
  });

  app.get("/metrics", async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });

  return { app, registry };
}
