import type { FastifyInstance } from "fastify";
import { buildApp, type DemoOptions } from "../src/app.js";

/** A demo app listening on 127.0.0.1:0, with helpers to call its HTTP API. */
export interface DemoInstance {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:<port>/` */
  readonly base: string;
  /** `POST /join`; resolves to the token. */
  join(nick: string): Promise<string>;
  /** A POST with `Authorization: Bearer <token>`; rejects unless the answer is 2xx. */
  post(path: string, token: string, body: object): Promise<unknown>;
  /** The event stream URL for a token. */
  streamUrl(token: string): string;
  close(): Promise<void>;
}

/** Builds the demo with `options` (logger off) and listens on a free port of 127.0.0.1. */
export async function startDemo(options: DemoOptions = {}): Promise<DemoInstance> {
  const app = await buildApp({ logger: false, ...options });
  await app.listen({ port: 0, host: "127.0.0.1" });
  await app.se.hub.ready();
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const base = `http://127.0.0.1:${address.port}/`;
  const send = async (path: string, body: object, token?: string): Promise<unknown> => {
    const response = await fetch(new URL(path, base), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    const payload: unknown = await response.json();
    if (!response.ok)
      throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(payload)}`);
    return payload;
  };
  return {
    app,
    base,
    join: async (nick) => ((await send("join", { nick })) as { token: string }).token,
    post: (path, token, body) => send(path, body, token),
    streamUrl: (token) => new URL(`events?token=${encodeURIComponent(token)}`, base).href,
    close: () => app.close(),
  };
}
