import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { createEventResponse, EventHub, type EventHubOptions, SeError } from "@se/core";
import { Hono } from "hono";

/**
 * A Hono app on `@se/core`: `createEventResponse` answers the fetch `Request` with a Web
 * `ReadableStream` response, so this runs unchanged on Node (`@hono/node-server`), Bun,
 * Deno or an edge runtime.
 * - `GET /events?seid=alice&topic=news` opens an event stream,
 * - `POST /send/:seid` (JSON body) sends to every tab of one seid,
 * - `POST /broadcast?topic=news` (JSON body) sends to everyone or to a topic.
 */
export function createApp(options: EventHubOptions = {}): { app: Hono; hub: EventHub } {
  const hub = new EventHub(options);
  const app = new Hono();

  app.get("/events", (c) => {
    let opened: ReturnType<typeof createEventResponse>;
    try {
      opened = createEventResponse(hub, c.req.raw, {
        seid: c.req.query("seid"),
        topics: c.req.queries("topic") ?? [],
        headers: { "access-control-allow-origin": "*" },
      });
    } catch (error) {
      if (!SeError.isInstance(error)) throw error;
      return c.json({ code: error.code, message: error.message }, 400);
    }
    const { response, connection } = opened;
    connection.send({ event: "welcome", data: { seid: connection.seid } });
    return response;
  });

  app.post("/send/:seid", async (c) => {
    return c.json(hub.send(c.req.param("seid"), { event: "message", data: await c.req.json() }));
  });

  app.post("/broadcast", async (c) => {
    const delivery = hub.broadcast(
      { event: "message", data: await c.req.json() },
      { topic: c.req.query("topic") },
    );
    return c.json(delivery);
  });

  return { app, hub };
}

/** Serves the app on Node; `close()` ends every stream, then stops the server. */
export async function listen(
  port: number,
  options: EventHubOptions = {},
): Promise<{ server: ServerType; port: number; hub: EventHub; close(): Promise<void> }> {
  const { app, hub } = createApp(options);
  let server!: ServerType;
  const info = await new Promise<AddressInfo>((resolve) => {
    server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, resolve);
  });
  const close = async (): Promise<void> => {
    await hub.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { server, port: info.port, hub, close };
}
