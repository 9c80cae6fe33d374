import type { Server } from "node:http";
import { type Connection, EventHub, type EventHubOptions, SeError } from "@se/core";
import { openEventStream } from "@se/core/node";
import express, { type Express, type RequestHandler } from "express";
import { passwordMatches, Sessions, sessionToken } from "./sessions.js";

/** Options of {@link createApp}: the hub's, plus who may log in. */
export interface AppOptions extends EventHubOptions {
  /** User name → password. Stands in for your user store. */
  users: Record<string, string>;
  /** Signs the session cookies: the same on every instance. @default random per start */
  sessionSecret?: string;
}

/**
 * An Express 5 app on `@se/core`: Express hands us Node's `req`/`res`, so the
 * `node:http` helpers work as they are. The seid of a stream is the logged-in user, taken from
 * a signed session cookie, never from the query: a client cannot read another user's stream.
 * - `POST /login` (JSON `{ user, password }`) sets the session cookie,
 * - `GET /events?topic=news` opens the user's event stream,
 * - `POST /send/:user` (JSON body) sends `{ from, message }` to every tab of that user,
 * - `POST /broadcast?topic=news` (JSON body) sends to everyone or to a topic.
 * - `GET /count` streams 1..n from an async generator, then ends (no user data, no login).
 * `/events`, `/send` and `/broadcast` answer 401 without a valid session.
 */
export function createApp(options: AppOptions): { app: Express; hub: EventHub } {
  const { users, sessionSecret, ...hubOptions } = options;
  const passwords = new Map(Object.entries(users));
  const sessions = new Sessions(sessionSecret);
  const hub = new EventHub(hubOptions);
  const app = express();
  app.use(express.json());

  /** Sets `res.locals.user` from the session cookie, or answers 401. */
  const loggedIn: RequestHandler = (req, res, next) => {
    const user = sessions.verify(sessionToken(req.headers.cookie));
    if (user === undefined) {
      res.status(401).json({ error: "log in first: POST /login" });
      return;
    }
    res.locals.user = user;
    next();
  };

  app.post("/login", (req, res) => {
    const { user, password } = (req.body ?? {}) as { user?: unknown; password?: unknown };
    if (typeof user !== "string" || !passwordMatches(password, passwords.get(user))) {
      res.status(401).json({ error: "wrong user or password" });
      return;
    }
    res.setHeader("set-cookie", sessions.cookie(sessions.issue(user)));
    res.json({ user });
  });

  app.get("/events", loggedIn, (req, res) => {
    const user = res.locals.user as string;
    let connection: Connection;
    try {
      // Checks the seid, topics and Last-Event-ID before any header goes out.
      connection = openEventStream(hub, req, res, {
        seid: user,
        topics: [req.query.topic ?? []].flat().map(String),
      });
    } catch (error) {
      if (!SeError.isInstance(error)) throw error;
      res.status(400).json({ code: error.code, message: error.message });
      return;
    }
    connection.send({ event: "welcome", data: { user } });
  });

  app.post("/send/:user", loggedIn, (req, res) => {
    const message = { from: res.locals.user as string, message: req.body };
    res.json(hub.send(req.params.user as string, { event: "message", data: message }));
  });

  app.post("/broadcast", loggedIn, (req, res) => {
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
  options: AppOptions,
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
