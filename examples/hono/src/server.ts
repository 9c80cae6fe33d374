import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { createEventResponse, EventHub, type EventHubOptions, SeError } from "@se/core";
import { Hono } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";

/** Options of {@link createApp}: the hub's, plus who may log in. */
export interface AppOptions extends EventHubOptions {
  /** User name → password. Stands in for your user store. */
  users: Record<string, string>;
  /** Signs the session cookies (HMAC-SHA256): the same on every instance. */
  sessionSecret: string;
  /** How long a login lasts. @default 8 hours */
  sessionTtlMs?: number;
}

const SESSION_COOKIE = "se_session";

/**
 * A Hono app on `@se/core`: `createEventResponse` answers the fetch `Request` with a Web
 * `ReadableStream` response, so this runs unchanged on Node (`@hono/node-server`), Bun,
 * Deno or an edge runtime. The seid of a stream is the logged-in user, from a signed session
 * cookie (Hono's `setSignedCookie`), never from the query: a client cannot read another user's
 * stream. No `access-control-allow-origin`: serve your page from the same origin (see
 * docs/deploy.md, CORS).
 * - `POST /login` (JSON `{ user, password }`) sets the session cookie,
 * - `GET /events?topic=news` opens the user's event stream,
 * - `POST /send/:user` (JSON body) sends `{ from, message }` to every tab of that user,
 * - `POST /broadcast?topic=news` (JSON body) sends to everyone or to a topic.
 * Everything but `/login` answers 401 without a valid session.
 */
export function createApp(options: AppOptions): { app: Hono<Env>; hub: EventHub } {
  const { users, sessionSecret, sessionTtlMs = 8 * 60 * 60 * 1000, ...hubOptions } = options;
  const passwords = new Map(Object.entries(users));
  const hub = new EventHub(hubOptions);
  const app = new Hono<Env>();

  app.post("/login", async (c) => {
    const body: unknown = await c.req.json().catch(() => ({}));
    const { user, password } = body as { user?: unknown; password?: unknown };
    if (typeof user !== "string" || !(await passwordMatches(password, passwords.get(user))))
      return c.json({ error: "wrong user or password" }, 401);
    const expires = Date.now() + sessionTtlMs;
    await setSignedCookie(c, SESSION_COOKIE, `${expires}:${user}`, sessionSecret, {
      httpOnly: true,
      sameSite: "Lax",
      path: "/",
      maxAge: Math.floor(sessionTtlMs / 1000),
    });
    return c.json({ user });
  });

  // Every route below needs a session: it sets c.var.user, or answers 401.
  app.use(
    createMiddleware<Env>(async (c, next) => {
      const value = await getSignedCookie(c, sessionSecret, SESSION_COOKIE);
      const colon = value ? value.indexOf(":") : -1;
      if (!value || colon < 1 || !(Number(value.slice(0, colon)) > Date.now()))
        return c.json({ error: "log in first: POST /login" }, 401);
      c.set("user", value.slice(colon + 1));
      await next();
    }),
  );

  app.get("/events", (c) => {
    const user = c.var.user;
    let opened: ReturnType<typeof createEventResponse>;
    try {
      opened = createEventResponse(hub, c.req.raw, {
        seid: user,
        topics: c.req.queries("topic") ?? [],
      });
    } catch (error) {
      if (!SeError.isInstance(error)) throw error;
      return c.json({ code: error.code, message: error.message }, 400);
    }
    const { response, connection } = opened;
    connection.send({ event: "welcome", data: { user } });
    return response;
  });

  app.post("/send/:user", async (c) => {
    const message = { from: c.var.user, message: await c.req.json() };
    return c.json(hub.send(c.req.param("user"), { event: "message", data: message }));
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

/** The variables the session middleware sets. */
type Env = { Variables: { user: string } };

/** Compares a password with the expected one in constant time (Web Crypto, any runtime). */
async function passwordMatches(given: unknown, expected: string | undefined): Promise<boolean> {
  if (typeof given !== "string" || expected === undefined) return false;
  const digest = async (text: string) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}

/** Serves the app on Node; `close()` ends every stream, then stops the server. */
export async function listen(
  port: number,
  options: AppOptions,
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
