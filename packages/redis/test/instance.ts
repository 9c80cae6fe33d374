import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventHub, type EventHubOptions } from "@se/core";
import { openEventStream } from "@se/core/node";
import { RedisBackplane, type RedisBackplaneOptions } from "../src/index.js";

/** One app instance: a hub with a Redis backplane and shared history, on its own HTTP server. */
export interface Instance {
  readonly hub: EventHub;
  readonly backplane: RedisBackplane;
  readonly url: string;
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** Starts an instance on 127.0.0.1:0. `GET /events?seid=…&topics=a,b` opens a stream. */
export async function startInstance(
  options: RedisBackplaneOptions,
  hubOptions: EventHubOptions = {},
): Promise<Instance> {
  const backplane = new RedisBackplane(options);
  const hub = new EventHub({
    heartbeatMs: false,
    ...hubOptions,
    backplane,
    history: backplane.history(),
  });
  const errors: unknown[] = [];
  hub.on("error", (error) => errors.push(error));
  const server: Server = createServer((req, res) => {
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    const topics = query.get("topics");
    openEventStream(hub, req, res, {
      seid: query.get("seid") ?? undefined,
      topics: topics ? topics.split(",") : [],
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await hub.ready();
  const { port } = server.address() as AddressInfo;
  return {
    hub,
    backplane,
    url: `http://127.0.0.1:${port}/events`,
    errors,
    async close() {
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
