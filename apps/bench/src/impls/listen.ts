import type { Server } from "node:http";
import type { FastifyInstance } from "fastify";
import { type Controlled, control } from "../server-kit.js";

/** The listen backlog of every bench server unless a scenario asks for another (the kernel caps it at `net.core.somaxconn`). */
export const DEFAULT_BACKLOG = 8192;

/** Listens on an ephemeral port of 127.0.0.1 and resolves with it. */
export function listenNode(server: Server, backlog = DEFAULT_BACKLOG): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", backlog }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve(address.port);
    });
  });
}

/** The shared control surface as Fastify routes, then listen. */
export async function listenFastify(
  app: FastifyInstance,
  server: Controlled,
  backlog = DEFAULT_BACKLOG,
): Promise<number> {
  const handle = async (
    request: { method: string; url: string },
    reply: { code(n: number): unknown },
  ) => {
    const answer = await control(request.method, request.url, server);
    reply.code(answer?.status ?? 404);
    return answer?.body ?? { error: "not found" };
  };
  app.post("/broadcast", handle);
  app.post("/peak", handle);
  app.get("/stats", handle);
  app.get("/health", handle);
  app.post("/resync", handle);
  app.post("/ticker", handle);
  app.post("/profile", handle);
  await app.listen({ port: 0, host: "127.0.0.1", backlog });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
