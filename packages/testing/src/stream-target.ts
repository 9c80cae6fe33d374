/** What `server.address()` returns: `node:net`'s `AddressInfo`, a pipe name, or `null`. */
export type ServerAddress = { address: string; family: string; port: number } | string | null;

/** A `node:http` (or `https`, `http2`) server, listening or not. */
export interface ServerLike {
  readonly listening: boolean;
  address(): ServerAddress;
  listen(port: number, host: string, listeningListener: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
}

/** A Fastify app (or anything with its `server` and a promise-returning `listen`). */
export interface AppLike {
  readonly server: ServerLike;
  listen(options: { port: number; host: string }): Promise<unknown>;
}

/** Where `openStream` connects: a URL, a Fastify app, or a `node:http` server. */
export type StreamTarget = string | URL | AppLike | ServerLike;

function isApp(target: AppLike | ServerLike): target is AppLike {
  return "server" in target && typeof target.server?.address === "function";
}

function baseUrl(address: ServerAddress): string {
  if (address === null || typeof address === "string") {
    throw new TypeError(
      `openStream: the server listens on ${address === null ? "nothing" : `the pipe ${address}`}; ` +
        "pass a URL, or a server listening on TCP",
    );
  }
  const host =
    address.address === "::" || address.address === "0.0.0.0"
      ? "127.0.0.1"
      : address.family === "IPv6" || address.address.includes(":")
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}`;
}

function listenServer(server: ServerLike): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

// One listen per app or server when several streams open at once on one that is not listening.
const starting = new WeakMap<object, Promise<unknown>>();

/** Starts a server that is not listening yet on 127.0.0.1:0. */
async function ensureListening(target: AppLike | ServerLike): Promise<ServerLike> {
  const server = isApp(target) ? target.server : target;
  if (server.listening) return server;
  let pending = starting.get(target);
  if (pending === undefined) {
    pending = isApp(target) ? target.listen({ port: 0, host: "127.0.0.1" }) : listenServer(target);
    starting.set(target, pending);
  }
  try {
    await pending;
  } finally {
    starting.delete(target);
  }
  return server;
}

/** The URL of `path` on `target`; a target that is not listening starts on 127.0.0.1:0. */
export async function resolveTarget(target: StreamTarget, path: string | undefined): Promise<URL> {
  if (typeof target === "string" || target instanceof URL) {
    return path === undefined ? new URL(target) : new URL(path, target);
  }
  const server = await ensureListening(target);
  return new URL(path ?? "/", baseUrl(server.address()));
}
