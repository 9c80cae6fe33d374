import { createServer, type Server, type ServerResponse } from "node:http";
import { type Connection, EventHub, type EventHubOptions, SeError } from "@se/core";
import { openEventStream } from "@se/core/node";

/**
 * A plain `node:http` server:
 * - `GET /events?seid=alice&topic=news` opens an event stream (replays missed events on reconnect),
 * - `POST /send/:seid` sends the request body to every tab of one seid,
 * - `POST /broadcast?topic=news` sends it to everyone (or to a topic's subscribers).
 */
export function createEventServer(options: EventHubOptions = {}): EventServer {
  const hub = new EventHub(options);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/events") {
      let connection: Connection;
      try {
        // Checks the seid, topics and Last-Event-ID before any header goes out.
        connection = openEventStream(hub, req, res, {
          seid: url.searchParams.get("seid") ?? undefined,
          topics: url.searchParams.getAll("topic"),
          headers: { "access-control-allow-origin": "*" },
        });
      } catch (error) {
        if (!SeError.isInstance(error)) throw error;
        return json(res, 400, { code: error.code, message: error.message });
      }
      connection.send({ event: "welcome", data: { seid: connection.seid } });
      return;
    }
    if (req.method === "POST" && url.pathname.startsWith("/send/")) {
      const seid = decodeURIComponent(url.pathname.slice("/send/".length));
      const delivery = hub.send(seid, { event: "message", data: await readBody(req) });
      return json(res, 200, delivery);
    }
    if (req.method === "POST" && url.pathname === "/broadcast") {
      const topic = url.searchParams.get("topic") ?? undefined;
      const delivery = hub.broadcast({ data: await readBody(req) }, { topic });
      return json(res, 200, delivery);
    }
    json(res, 404, { error: "not found" });
  });
  const close = async (): Promise<void> => {
    await hub.close(); // ends every event stream, so the server can stop
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections(); // and idle keep-alive sockets
    await closed;
  };
  return { server, hub, close };
}

export interface EventServer {
  server: Server;
  hub: EventHub;
  close(): Promise<void>;
}

async function readBody(req: AsyncIterable<Buffer>): Promise<string> {
  let body = "";
  for await (const chunk of req) body += chunk.toString("utf8");
  return body;
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}
