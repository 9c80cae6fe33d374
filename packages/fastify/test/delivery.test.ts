import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE } from "../src/index.js";
import { listen, record, testApp, until } from "./helpers.js";

describe("delivery guarantees through Fastify", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("a client cut by the server reconnects with Last-Event-ID and gets every event once, in order", async () => {
    app = testApp();
    const se = new SE({ retry: 20, seidGenerator: () => "reader" });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    const client = record(`${base}/events`);
    await client.opened;

    const total = 300;
    for (let n = 0; n < total; n++) {
      app.se.broadcast({ data: String(n) });
      if (n % 75 === 40) {
        // Cut every stream from the server side, mid-burst.
        for (const connection of se.hub.clients.get("reader") ?? []) connection.close();
      }
      if (n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await until(() => client.events.length >= total, `${total} events`, 10_000);
    expect(client.events.map((e) => e.data)).toEqual(
      Array.from({ length: total }, (_, n) => String(n)),
    );
    expect(se.stats().replayedEvents).toBeGreaterThan(0);
    client.source.close();
  });

  it("?lastEventId= works for clients that cannot set headers; a too-old id gets se-reset", async () => {
    app = testApp();
    const se = new SE({ retry: false, history: { maxEvents: 3 } });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    const ids = Array.from({ length: 5 }, (_, n) => app.se.broadcast({ data: `e${n}` }).id);

    const readFirst = async (url: string) => {
      const response = await fetch(url);
      const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
      let text = "";
      while (!text.endsWith("\n\n")) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      return text;
    };
    const caughtUp = await readFirst(`${base}/events?lastEventId=${ids[2]}`);
    expect(caughtUp).toBe(`id: ${ids[3]}\ndata: e3\n\nid: ${ids[4]}\ndata: e4\n\n`);

    const stale = await readFirst(`${base}/events?lastEventId=${ids[0]}`);
    expect(stale).toMatch(
      new RegExp(
        `^event: se-reset\\nid: \\d+~\\d+\\ndata: \\{"reason":"history-gap","lastEventId":"${ids[0]}"\\}\\n\\n$`,
      ),
    );
    expect(se.stats().resets).toBe(1);
  });

  it("reply.sse.pipe stops the producer when the client leaves", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    let stopped = false;
    let produced = 0;
    app.get("/tokens", (_request, reply) => {
      async function* tokens() {
        try {
          for (;;) {
            produced++;
            yield { n: produced };
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          stopped = true;
        }
      }
      void reply.sse.pipe(tokens());
    });
    const base = await listen(app);
    const client = record(`${base}/tokens`);
    await until(() => client.events.length >= 3, "three tokens");
    expect(JSON.parse(client.events[0]?.data ?? "")).toEqual({ n: 1 });
    client.source.close();
    await until(() => stopped, "the generator's finally");
    const atStop = produced;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(produced).toBe(atStop);
    expect(se.hub.size).toBe(0);
  });

  it("reply.sse.signal aborts when the client leaves", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    let aborted: unknown;
    app.get("/events", (_request, reply) => {
      const signal = reply.sse.signal; // read before the stream opens: it does not open it
      signal.addEventListener("abort", () => {
        aborted = signal.reason;
      });
      reply.sse.open();
    });
    const base = await listen(app);
    const client = record(`${base}/events`);
    await client.opened;
    client.source.close();
    await until(() => aborted !== undefined, "the abort");
    expect(aborted).toBe("client-gone");
    expect(se.hub.size).toBe(0);
  });

  it("reading reply.sse.signal or lastEventId does not open the stream: the route can still answer 204", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    const seen: Array<string | undefined> = [];
    app.get("/events", (_request, reply) => {
      seen.push(reply.sse.lastEventId);
      expect(reply.sse.signal.aborted).toBe(false);
      reply.code(204).send();
    });
    const base = await listen(app);
    const response = await fetch(`${base}/events`, { headers: { "last-event-id": "42" } });
    expect(response.status).toBe(204);
    expect(response.headers.get("content-type")).toBeNull();
    expect(seen).toEqual(["42"]);
    expect(se.hub.size).toBe(0);
  });
});
