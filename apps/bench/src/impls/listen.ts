import type { Server } from "node:http";
import type { FastifyInstance } from "fastify";
import { type BenchServer, control } from "../server-kit.js";

/** Listens on an ephemeral port of 127.0.0.1 and resolves with it. */
export function listenNode(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", backlog: 8192 }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve(address.port);
    });
  });
}

/** The shared control surface as Fastify routes, then listen. */
export async function listenFastify(
  app: FastifyInstance,
  server: Pick<BenchServer, "clients" | "send">,
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
  await app.listen({ port: 0, host: "127.0.0.1", backlog: 8192 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
