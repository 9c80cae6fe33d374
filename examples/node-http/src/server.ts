import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Connection, EventHub, type EventHubOptions, SeError } from "@se/core";
import { openEventStream } from "@se/core/node";
import { passwordMatches, Sessions, sessionToken } from "./sessions.js";

/** Options of {@link createEventServer}: the hub's, plus who may log in. */
export interface EventServerOptions extends EventHubOptions {
  /** User name → password. Stands in for your user store. */
  users: Record<string, string>;
  /** Signs the session cookies: the same on every instance. @default random per start */
  sessionSecret?: string;
}

/**
 * A plain `node:http` server. The seid of a stream is the logged-in user, taken from a signed
 * session cookie, never from the request's query: a client cannot read another user's stream.
 * - `POST /login` (JSON `{ user, password }`) sets the session cookie,
 * - `GET /events?topic=news` opens the user's event stream (replays missed events on reconnect),
 * - `POST /send/:user` sends `{ from, text }` (the body as `text`) to every tab of that user,
 * - `POST /broadcast?topic=news` sends the body to everyone (or to a topic's subscribers).
 * Everything but `/login` answers 401 without a valid session.
 */
export function createEventServer(options: EventServerOptions): EventServer {
  const { users, sessionSecret, ...hubOptions } = options;
  const passwords = new Map(Object.entries(users));
  const sessions = new Sessions(sessionSecret);
  const hub = new EventHub(hubOptions);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "POST" && url.pathname === "/login") {
      const { user, password } = parseJson(await readBody(req));
      if (typeof user !== "string" || !passwordMatches(password, passwords.get(user)))
        return json(res, 401, { error: "wrong user or password" });
      res.setHeader("set-cookie", sessions.cookie(sessions.issue(user)));
      return json(res, 200, { user });
    }
    const user = sessions.verify(sessionToken(req.headers.cookie));
    if (user === undefined) return json(res, 401, { error: "log in first: POST /login" });
    if (req.method === "GET" && url.pathname === "/events") {
      let connection: Connection;
      try {
        // Checks the seid, topics and Last-Event-ID before any header goes out.
        connection = openEventStream(hub, req, res, {
          seid: user,
          topics: url.searchParams.getAll("topic"),
        });
      } catch (error) {
        if (!SeError.isInstance(error)) throw error;
        return json(res, 400, { code: error.code, message: error.message });
      }
      connection.send({ event: "welcome", data: { user } });
      return;
    }
    if (req.method === "POST" && url.pathname.startsWith("/send/")) {
      const to = decodeURIComponent(url.pathname.slice("/send/".length));
      const delivery = hub.send(to, {
        event: "message",
        data: { from: user, text: await readBody(req) },
      });
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

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += chunk.toString("utf8");
  return body;
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}
