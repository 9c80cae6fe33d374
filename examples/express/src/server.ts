import type { Server } from "node:http";
import { type Connection, EventHub, type EventHubOptions, SeError } from "@se/core";
import { openEventStream } from "@se/core/node";
import express, { type Express } from "express";

/**
 * An Express 5 app on `@se/core`: Express hands us Node's `req`/`res`, so the
 * `node:http` helpers work as they are.
 * - `GET /events?seid=alice&topic=news` opens an event stream,
 * - `POST /send/:seid` (JSON body) sends to every tab of one seid,
 * - `POST /broadcast?topic=news` (JSON body) sends to everyone or to a topic.
 * - `GET /count` streams 1..n from an async generator, then ends.
 */
export function createApp(options: EventHubOptions = {}): { app: Express; hub: EventHub } {
  const hub = new EventHub(options);
  const app = express();
  app.use(express.json());

  app.get("/events", (req, res) => {
    let connection: Connection;
    try {
      // Checks the seid, topics and Last-Event-ID before any header goes out.
      connection = openEventStream(hub, req, res, {
        seid: typeof req.query.seid === "string" ? req.query.seid : undefined,
        topics: [req.query.topic ?? []].flat().map(String),
      });
    } catch (error) {
      if (!SeError.isInstance(error)) throw error;
      res.status(400).json({ code: error.code, message: error.message });
      return;
    }
    connection.send({ event: "welcome", data: { seid: connection.seid } });
  });

  app.post("/send/:seid", (req, res) => {
    res.json(hub.send(req.params.seid, { event: "message", data: req.body }));
  });

  app.post("/broadcast", (req, res) => {
    const topic = typeof req.query.topic === "string" ? req.query.topic : undefined;
    res.json(hub.broadcast({ event: "message", data: req.body }, { topic }));
  });

  app.get("/count", async (req, res) => {
    const connection = openEventStream(hub, req, res, { topics: [] });
    const n = Math.min(Number(req.query.n ?? 5), 1000);
    // pipe() waits while the client is slow and stops the generator if it leaves.
    await connection.pipe(count(n, connection.signal), {
      map: (i) => ({ event: "count", data: i }),
    });
    connection.close();
  });

  return { app, hub };
}

async function* count(n: number, signal: AbortSignal): AsyncGenerator<number> {
  for (let i = 1; i <= n && !signal.aborted; i++) {
    yield i;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts the app; `close()` ends every stream, then stops the server. */
export async function listen(
  port: number,
  options: EventHubOptions = {},
): Promise<{ server: Server; hub: EventHub; close(): Promise<void> }> {
  const { app, hub } = createApp(options);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, "127.0.0.1", () => resolve(s));
  });
  const close = async (): Promise<void> => {
    await hub.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  return { server, hub, close };
}
