import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 between the app and Redis. The tests can cut it (Redis goes
 * away: connections drop, new ones are refused), restore it, or stall it (connections stay
 * open but nothing the app sends reaches Redis, as with a hung server) and resume it.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  /** While stalled: what each app-side socket sent, in order, to forward on resume. */
  readonly #held = new Map<Socket, { upstream: Socket; chunks: Buffer[] }>();
  #stalled = false;
  #server: Server | undefined;
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  static async start(targetUrl: string): Promise<TcpProxy> {
    const url = new URL(targetUrl);
    const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
    await proxy.restore();
    return proxy;
  }

  /** Listens again, on the same port once one was chosen. */
  async restore(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => {
          this.#sockets.delete(socket);
          this.#held.delete(socket);
        });
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const held = { upstream, chunks: [] as Buffer[] };
      this.#held.set(client, held);
      client.on("data", (chunk: Buffer) => {
        if (this.#stalled) held.chunks.push(chunk);
        else upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops accepting and destroys every open connection. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Keeps connections open but holds back everything the app sends to Redis. */
  stall(): void {
    this.#stalled = true;
  }

  /** Forwards what was held back, in order, and stops holding. */
  resume(): void {
    this.#stalled = false;
    for (const { upstream, chunks } of this.#held.values()) {
      for (const chunk of chunks.splice(0)) upstream.write(chunk);
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    return this.cut();
  }
}
