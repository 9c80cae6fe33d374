/** `@se/fastify`: the plugin, `reply.sse.open()`, `fastify.se.broadcast`, every default kept. */
import Fastify from "fastify";
import type { BenchServer } from "../server-kit.js";
import { listenFastify } from "./listen.js";

export async function start(): Promise<BenchServer> {
  const { SE } = await import("@se/fastify");
  const app = Fastify();
  const se = new SE();
  await app.register(se.plugin);
  app.get("/events", (_request, reply) => {
    reply.sse.open();
  });
  const send = (data: string): void => {
    app.se.broadcast({ data });
  };
  const self = { clients: () => se.hub.size, send };
  return { ...self, port: await listenFastify(app, self) };
}
