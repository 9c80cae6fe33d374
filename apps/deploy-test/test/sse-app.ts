import type { AddressInfo } from "node:net";
import { SE, type SEOptions } from "@se/fastify";
import Fastify, { type FastifyInstance } from "fastify";

/** A Fastify app with `@se/fastify` on 127.0.0.1:0 and the address it listens on. */
export interface SseApp {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /events?user=<seid>` opens a stream registered under that seid (tests only: a real
 * app takes the seid from its auth, see the examples). Tests send with `app.se`. `before`
 * registers plugins and routes ahead of se (e.g. `@fastify/compress`, `@fastify/cors`).
 */
export async function startSseApp(
  options: SEOptions = {},
  before?: (app: FastifyInstance) => Promise<void>,
): Promise<SseApp> {
  const app = Fastify();
  await before?.(app);
  await app.register(
    new SE({
      ...options,
      seidGenerator: (request) => (request.query as { user?: string }).user ?? "anonymous",
    }).plugin,
  );
  app.get("/events", (_request, reply) => {
    reply.sse.open();
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const port = (app.server.address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
