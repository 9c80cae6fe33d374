/** `node:http`, no library: each event formatted once and written to every response. */
import { createServer, type ServerResponse } from "node:http";
import { type BenchServer, nodeControl, STREAM_HEADERS } from "../server-kit.js";
import { listenNode } from "./listen.js";

export async function start(): Promise<BenchServer> {
  const clients = new Set<ServerResponse>();
  const send = (data: string): void => {
    const frame = `data: ${data}\n\n`;
    for (const res of clients) res.write(frame);
  };
  const self = { clients: () => clients.size, send };
  const server = createServer((req, res) => {
    if (nodeControl(req, res, self)) return;
    res.writeHead(200, STREAM_HEADERS);
    res.flushHeaders();
    clients.add(res);
    res.on("close", () => clients.delete(res));
  });
  return { ...self, port: await listenNode(server) };
}
