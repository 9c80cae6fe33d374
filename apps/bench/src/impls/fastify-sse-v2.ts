/**
 * fastify-sse-v2: `reply.sse(event)` per client, over a set of open replies (it has no
 * broadcast of its own). Loaded with `require` and typed locally: its `reply.sse` type merges
 * into Fastify's namespace and would clash with the other plugins' in one type-check.
 */
import { createRequire } from "node:module";
import Fastify, { type FastifyPluginAsync, type FastifyReply } from "fastify";
import type { BenchServer } from "../server-kit.js";
import { listenFastify } from "./listen.js";

interface V2Event {
  data?: string;
  comment?: string;
}
type V2Reply = FastifyReply & { sse(event: V2Event): void };

const require = createRequire(import.meta.url);
const { FastifySSEPlugin } = require("fastify-sse-v2") as { FastifySSEPlugin: FastifyPluginAsync };

export async function start(): Promise<BenchServer> {
  const app = Fastify();
  await app.register(FastifySSEPlugin);
  const clients = new Set<V2Reply>();
  const send = (data: string): void => {
    for (const reply of clients) reply.sse({ data });
  };
  app.get("/events", (request, reply) => {
    const sse = reply as V2Reply;
    // The first call sends the headers and the retry field; a comment opens the stream without an event.
    sse.sse({ comment: "open" });
    clients.add(sse);
    request.raw.socket.on("close", () => clients.delete(sse));
  });
  const self = { clients: () => clients.size, send };
  return { ...self, port: await listenFastify(app, self) };
}
