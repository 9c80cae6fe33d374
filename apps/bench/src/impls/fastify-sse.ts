/**
 * @fastify/sse: an `sse: true` route kept open with `reply.sse.keepAlive()`, and
 * `reply.sse.send({ data })` to every open reply (it has no broadcast of its own). Loaded with
 * `require` and typed locally for the same reason as fastify-sse-v2.
 */
import { createRequire } from "node:module";
import Fastify, { type FastifyPluginAsync, type FastifyReply } from "fastify";
import type { BenchServer } from "../server-kit.js";
import { listenFastify } from "./listen.js";

interface SseContext {
  keepAlive(): void;
  sendHeaders(): void;
  send(message: { data: string }): Promise<void>;
  onClose(callback: () => void): void;
}
type SseReply = FastifyReply & { sse: SseContext };

const require = createRequire(import.meta.url);
const fastifySse = require("@fastify/sse") as FastifyPluginAsync;

export async function start(): Promise<BenchServer> {
  const app = Fastify();
  await app.register(fastifySse);
  const clients = new Set<SseContext>();
  const ignore = (): void => {};
  const send = (data: string): void => {
    for (const sse of clients) sse.send({ data }).catch(ignore);
  };
  app.get("/events", { sse: true } as never, async (_request, reply) => {
    const sse = (reply as SseReply).sse;
    sse.keepAlive();
    sse.sendHeaders();
    // Headers otherwise wait for the first event; EventSource would not see the stream open.
    reply.raw.flushHeaders();
    clients.add(sse);
    sse.onClose(() => clients.delete(sse));
  });
  const self = { clients: () => clients.size, send };
  return { ...self, port: await listenFastify(app, self) };
}
