import { connect, createServer, type Server, type Socket } from "node:net";
import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { EventSource } from "eventsource";
import { describe, expect, it } from "vitest";
import { startInstance } from "./instance.js";
import { suiteScope } from "./suite-scope.js";

const CLIENTS = 2000;
const GAP_MS = 200;

/** A TCP load balancer in front of the instances: new connections go to `target`. */
async function balancer(
  target: number,
): Promise<{ port: number; target: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { target };
  const server: Server = createServer((client) => {
    const upstream = connect(state.target, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    get target() {
      return state.target;
    },
    set target(port: number) {
      state.target = port;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const portOf = (url: string) => Number(new URL(url).port);

describe.skipIf(!redisAvailable)("a rolling restart: fastify.close() with a drain window", () => {
  const { prefix, opened } = suiteScope("rolling");

  it(`${CLIENTS} EventSources move from the closing instance to the other, each with every event exactly once`, async () => {
    // Defaults but the window: retry 3000 ms with its jitter.
    const leaving = await startInstance({ url: REDIS_URL, prefix }, { drainMs: 2000 });
    const staying = await startInstance({ url: REDIS_URL, prefix });
    opened.push(staying);
    const lb = await balancer(portOf(leaving.url));
    opened.push(lb);
    const url = `http://127.0.0.1:${lb.port}/events`;
    const received: string[][] = Array.from({ length: CLIENTS }, () => []);
    const sources: EventSource[] = [];
    let ticker: ReturnType<typeof setInterval> | undefined;
    opened.push({
      close: () => {
        clearInterval(ticker);
        for (const source of sources) source.close();
      },
    });
    for (let i = 0; i < CLIENTS; i++) {
      const source = new EventSource(url);
      source.onmessage = (event) => received[i]?.push(event.data);
      sources.push(source);
    }
    await waitFor(() => leaving.hub.size === CLIENTS, `${CLIENTS} streams`, 60_000);
    const sent: string[] = [];
    const send = () => {
      const data = `e${sent.length}`;
      staying.fastify.se.broadcast({ data });
      sent.push(data);
    };
    for (let i = 0; i < 10; i++) send();
    await waitFor(() => received.every((r) => r.length === 10), "the first 10 events", 30_000);

    ticker = setInterval(send, GAP_MS);
    lb.target = portOf(staying.url); // the balancer stops sending new connections there
    const arrived: number[] = [];
    staying.hub.on("connect", () => arrived.push(Date.now()));
    const start = Date.now();
    await leaving.close();
    await waitFor(() => staying.hub.size === CLIENTS, "every client on the other instance", 60_000);
    clearInterval(ticker);
    for (let i = 0; i < 5; i++) send();
    await waitFor(
      () => received.every((r) => r.length >= sent.length),
      "every event at every client",
      60_000,
    );
    const wrong = received.findIndex((r) => r.join() !== sent.join());
    expect(wrong, `client ${wrong} got ${received[wrong]?.join()}`).toBe(-1);
    const seconds = new Map<number, number>();
    for (const time of arrived) {
      const second = Math.floor((time - start) / 1000);
      seconds.set(second, (seconds.get(second) ?? 0) + 1);
    }
    console.log(
      `arrivals on the staying instance after close() with drainMs 2000, per second:\n${[...seconds]
        .sort(([a], [b]) => a - b)
        .map(
          ([second, count]) =>
            `${String(second).padStart(3)} s ${"#".repeat(Math.ceil(count / 20))} ${count}`,
        )
        .join("\n")}`,
    );
    expect(seconds.size).toBeGreaterThanOrEqual(2);
    expect(staying.hub.stats().resets).toBe(0);
  }, 150_000);
});
