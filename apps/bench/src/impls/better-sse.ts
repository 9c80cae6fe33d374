/** better-sse on `node:http` (its home ground): `createSession`, one channel, `channel.broadcast`. */
import { createServer } from "node:http";
import { createChannel, createSession } from "better-sse";
import { type BenchServer, nodeControl } from "../server-kit.js";
import { listenNode } from "./listen.js";

export async function start(): Promise<BenchServer> {
  const channel = createChannel();
  const send = (data: string): void => {
    channel.broadcast(data);
  };
  const self = { clients: () => channel.sessionCount, send };
  const server = createServer((req, res) => {
    if (nodeControl(req, res, self)) return;
    createSession(req, res).then(
      (session) => channel.register(session),
      () => res.destroy(),
    );
  });
  return { ...self, port: await listenNode(server) };
}
