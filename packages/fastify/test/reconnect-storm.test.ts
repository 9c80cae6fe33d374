import { EventSource } from "eventsource";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE } from "../src/index.js";
import { listen, testApp, until } from "./helpers.js";

const CLIENTS = 2000;
/** Events keep flowing every this many ms. */
const GAP_MS = 200;
const BUCKET_MS = 250;

/** Reconnect times, in BUCKET_MS buckets after `from`, as text bars for the test output. */
function histogram(times: readonly number[], from: number): { text: string; buckets: number[] } {
  const buckets: number[] = [];
  for (const time of times) {
    const i = Math.floor((time - from) / BUCKET_MS);
    buckets[i] = (buckets[i] ?? 0) + 1;
  }
  const filled = Array.from(buckets, (count) => count ?? 0);
  const widest = Math.max(...filled);
  const text = filled
    .map((count, i) => {
      const label = `${String(i * BUCKET_MS).padStart(5)}–${String((i + 1) * BUCKET_MS).padEnd(5)} ms`;
      return `${label} ${"#".repeat(Math.round((count / widest) * 40)).padEnd(40)} ${count}`;
    })
    .join("\n");
  return { text, buckets: filled };
}

describe("a reconnect storm: 2000 EventSources ended by resync() with retry jitter and a drain window", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("reconnect spread over the window, each replaying exactly what it missed", async () => {
    app = testApp();
    // Defaults but the window: retry 3000 ms with its 0.5 jitter, the in-memory history.
    const se = new SE({ drainMs: 2000, history: { maxEvents: 5000 } });
    await app.register(se.plugin);
    app.get("/health", async () => "ok");
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);

    const received: string[][] = Array.from({ length: CLIENTS }, () => []);
    const sources: EventSource[] = [];
    let ticker: ReturnType<typeof setInterval> | undefined;
    for (let i = 0; i < CLIENTS; i++) {
      const source = new EventSource(`${base}/events`);
      source.onmessage = (event) => received[i]?.push(event.data);
      sources.push(source);
    }
    try {
      await until(() => se.hub.size === CLIENTS, `${CLIENTS} streams`, 60_000);
      const sent: string[] = [];
      const send = () => {
        const data = `e${sent.length}`;
        se.broadcast({ data });
        sent.push(data);
      };
      for (let i = 0; i < 20; i++) send();
      await until(() => received.every((r) => r.length === 20), "the first 20 events", 30_000);

      const reconnects: number[] = [];
      se.hub.on("connect", () => reconnects.push(Date.now()));
      const start = Date.now();
      const resynced = se.resync();
      // Events keep flowing while the streams end and the clients come back.
      ticker = setInterval(send, GAP_MS);
      // A plain route keeps answering during the storm (its latency is printed, not asserted).
      const healthMs: number[] = [];
      const polling = (async () => {
        while (reconnects.length < CLIENTS && Date.now() - start < 60_000) {
          const asked = Date.now();
          const health = await fetch(`${base}/health`);
          expect(await health.text()).toBe("ok");
          healthMs.push(Date.now() - asked);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await resynced;
      await until(() => reconnects.length >= CLIENTS, "every client back", 60_000);
      await polling;
      clearInterval(ticker);
      for (let i = 0; i < 5; i++) send();

      await until(
        () => received.every((r) => r.length >= sent.length),
        "every event at every client",
        60_000,
      );
      const { text, buckets } = histogram(reconnects, start);
      healthMs.sort((a, b) => a - b);
      console.log(
        `reconnects of ${CLIENTS} clients after resync() with drainMs 2000, retry 3000 + jitter:\n${text}\n` +
          `GET /health during the storm: ${healthMs.length} answers, median ${healthMs[healthMs.length >> 1]} ms, max ${healthMs.at(-1)} ms`,
      );
      expect(healthMs.length).toBeGreaterThan(0);
      // Exactly once, in order, for every client: nothing lost over the cut, nothing twice.
      const wrong = received.findIndex((r) => r.join() !== sent.join());
      expect(wrong, `client ${wrong} got ${received[wrong]?.join()}`).toBe(-1);
      expect(reconnects).toHaveLength(CLIENTS);
      // Spread, not all at once (the window and the jitter, not the machine's speed).
      expect(buckets.filter((count) => count > 0).length).toBeGreaterThanOrEqual(4);
      expect(Math.max(...buckets)).toBeLessThan(CLIENTS / 2);
      expect(se.stats()).toMatchObject({ resyncs: CLIENTS, resets: 0 });
    } finally {
      clearInterval(ticker);
      for (const source of sources) source.close();
    }
  }, 120_000);
});
