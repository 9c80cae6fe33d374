/** A Fastify route that hijacks the reply and writes preformatted frames to `reply.raw`. */
import type { ServerResponse } from "node:http";
import Fastify from "fastify";
import { type BenchServer, STREAM_HEADERS } from "../server-kit.js";
import { listenFastify } from "./listen.js";

export async function start(): Promise<BenchServer> {
  const app = Fastify();
  const clients = new Set<ServerResponse>();
  const send = (data: string): void => {
    const frame = `data: ${data}\n\n`;
    for (const res of clients) res.write(frame);
  };
  app.get("/events", (_request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, STREAM_HEADERS);
    res.flushHeaders();
    clients.add(res);
    res.on("close", () => clients.delete(res));
  });
  const self = { clients: () => clients.size, send };
  return { ...self, port: await listenFastify(app, self) };
}
