import { connect as connectHttp2 } from "node:http2";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE } from "../src/index.js";
import { listen, record, testApp, until } from "./helpers.js";

describe("Fastify lifecycle", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  async function start(
    se = new SE({ seidGenerator: (req) => (req.query as { u?: string }).u ?? "anon" }),
  ) {
    app = testApp();
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    app.post("/send/:seid", (request) => {
      const { seid } = request.params as { seid: string };
      return { delivered: app.se.sendEventBySeid(seid, request.body as object, "dm") };
    });
    return { se, base: await listen(app) };
  }

  it("two tabs with one seid both receive sendEventBySeid; others do not", async () => {
    const { se, base } = await start();
    const tab1 = record(`${base}/events?u=alice`, ["dm"]);
    const tab2 = record(`${base}/events?u=alice`, ["dm"]);
    const bob = record(`${base}/events?u=bob`, ["dm"]);
    await Promise.all([tab1.opened, tab2.opened, bob.opened]);
    expect(se.clients.get("alice")?.size).toBe(2);

    const response = await fetch(`${base}/send/alice`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "hi" }),
    });
    expect(await response.json()).toEqual({ delivered: true });
    await until(() => tab1.events.length === 1 && tab2.events.length === 1, "both tabs");
    expect(tab1.events[0]?.data).toBe('{"text":"hi"}');
    expect(tab2.events[0]?.lastEventId).toBe(tab1.events[0]?.lastEventId);
    expect(bob.events).toEqual([]);

    const nobody = await fetch(`${base}/send/carol`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(await nobody.json()).toEqual({ delivered: false });
    for (const c of [tab1, tab2, bob]) c.source.close();
  });

  it("100 clients connect and disconnect; the registry returns to zero", async () => {
    const { se, base } = await start(new SE());
    const clients = Array.from({ length: 100 }, () => record(`${base}/events`));
    await Promise.all(clients.map((c) => c.opened));
    expect(se.hub.size).toBe(100);
    expect(se.clients.size).toBe(100);
    for (const c of clients) c.source.close();
    await until(() => se.hub.size === 0 && se.clients.size === 0, "an empty registry");
    expect(se.stats()).toMatchObject({ connections: 0, clients: 0 });
  });

  it("endEvent ends the stream and removes the client at once", async () => {
    app = testApp();
    const se = new SE({ retry: false });
    await app.register(se.plugin);
    // Errors are collected and checked outside: a throw in the handler would only be logged.
    const afterEnd: unknown[] = [];
    const attempt = (call: () => unknown) => {
      try {
        call();
        afterEnd.push("no error");
      } catch (error) {
        afterEnd.push((error as { code?: string }).code);
      }
    };
    app.get("/once", (_request, reply) => {
      reply.sendEvent("only");
      reply.endEvent();
      attempt(() => reply.sendEvent("again"));
      attempt(() => reply.sse.send({ data: "again" }));
      attempt(() => reply.sse.subscribe("news"));
      attempt(() => reply.sse.open());
    });
    const base = await listen(app);
    const text = await (await fetch(`${base}/once`)).text();
    expect(text).toMatch(/^id: \d+~1\ndata: only\n\n$/);
    expect(se.hub.size).toBe(0);
    expect(afterEnd).toEqual(Array(4).fill("FST_ERR_SE_STREAM_ENDED"));
  });

  it("fastify.close() ends 100 live streams (with a final event) and resolves", async () => {
    app = Fastify(); // no forceCloseConnections: ending the streams is what lets it close
    const se = new SE({ closeEvent: { event: "shutdown", data: "bye" } });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);
    const clients = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const response = await fetch(`${base}/events`);
        return response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
      }),
    );
    await until(() => se.hub.size === 100, "100 streams");
    const started = performance.now();
    const ended = clients.map(async (reader) => {
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    });
    await app.close();
    const texts = await Promise.all(ended);
    console.log(`fastify.close() with 100 streams: ${(performance.now() - started).toFixed(1)} ms`);
    for (const text of texts) expect(text).toContain("event: shutdown\ndata: bye\n\n");
    expect(se.hub.size).toBe(0);
    expect(() => se.hub.broadcast({ data: "late" })).toThrowError(
      expect.objectContaining({ code: "SE_ERR_HUB_CLOSED" }),
    );
  });

  it("an auth failure in preHandler answers a normal error, not a half-open stream", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    app.get(
      "/private",
      {
        preHandler: async (request, reply) => {
          if (request.headers.authorization !== "Bearer ok") {
            await reply.code(401).send({ error: "unauthorized" });
          }
        },
      },
      (_request, reply) => {
        reply.sendEvent("secret");
      },
    );
    const denied = await app.inject({ method: "GET", url: "/private" });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers["content-type"]).toMatch(/application\/json/);
    expect(denied.json()).toEqual({ error: "unauthorized" });
    expect(se.hub.size).toBe(0);
    const base = await listen(app);
    const allowed = await fetch(`${base}/private`, { headers: { authorization: "Bearer ok" } });
    expect(allowed.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = allowed.body?.getReader();
    const { value } = (await reader?.read()) ?? {};
    expect(new TextDecoder().decode(value)).toMatch(/^retry: (3\d{3}|4[0-4]\d{2}|4500)\n\n/);
    await reader?.cancel();
  });

  it("an async handler that throws after the stream opened is logged, not FST_ERR_REP_ALREADY_SENT, and its stream ends", async () => {
    const logs: Array<Record<string, unknown>> = [];
    app = testApp({
      logger: { level: "warn", stream: { write: (line: string) => logs.push(JSON.parse(line)) } },
    });
    const se = new SE();
    await app.register(se.plugin);
    app.get("/boom", async (_request, reply) => {
      reply.sendEvent("before");
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error("kaput");
    });
    const base = await listen(app);
    const client = record(`${base}/boom`);
    await until(
      () => logs.some((l) => (l.err as { message?: string })?.message === "kaput"),
      "the log",
    );
    const line = logs.find((l) => (l.err as { message?: string })?.message === "kaput");
    expect(line?.msg).toBe("se: error after the event stream opened; stream ended");
    expect(logs.some((l) => JSON.stringify(l).includes("FST_ERR_REP_ALREADY_SENT"))).toBe(false);
    await until(() => client.events.length === 1, "the event sent before the error");
    // No zombie: the stream was ended, so the client is no longer registered.
    await until(() => se.hub.size === 0, "the stream ended");
    client.source.close();
  });

  it("works inside an encapsulated child plugin", async () => {
    app = testApp();
    const se = new SE();
    await app.register(se.plugin);
    await app.register(
      async (child) => {
        child.addHook("onRequest", async (_request, reply) => {
          reply.header("x-child", "yes");
        });
        child.get("/events", (_request, reply) => {
          reply.sendEvent("from child");
        });
      },
      { prefix: "/child" },
    );
    const base = await listen(app);
    const response = await fetch(`${base}/child/events`);
    expect(response.headers.get("x-child")).toBe("yes");
    const reader = response.body?.getReader();
    let text = "";
    while (!text.includes("from child")) {
      const { value, done } = (await reader?.read()) ?? { done: true };
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/id: \d+~\d+\ndata: from child\n\n/);
    await reader?.cancel();
  });

  it("headers go out when the stream opens, before any event", async () => {
    app = testApp();
    const se = new SE({ retry: false, heartbeatMs: false });
    await app.register(se.plugin);
    app.get("/quiet", (_request, reply) => {
      reply.header("x-custom", "kept");
      reply.sse.open();
    });
    const base = await listen(app);
    const response = await fetch(`${base}/quiet`); // resolves on headers alone
    expect(response.status).toBe(200);
    expect(response.headers.get("x-custom")).toBe("kept");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    expect(response.headers.get("connection")).toBe("keep-alive");
    const { opened, source } = record(`${base}/quiet`);
    await opened; // onopen fired with no event sent
    source.close();
    await response.body?.cancel();
  });

  it("serves an event stream over HTTP/2 without a Connection header or warnings", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    app = Fastify({ http2: true }) as unknown as FastifyInstance;
    const se = new SE({ retry: false });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sendEvent({ over: "h2" }, "hello");
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address() as { port: number };
    const session = connectHttp2(`http://127.0.0.1:${address.port}`);
    try {
      const stream = session.request({ ":path": "/events" });
      const headers = await new Promise<Record<string, unknown>>((resolve) =>
        stream.on("response", resolve),
      );
      expect(headers[":status"]).toBe(200);
      expect(headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(headers.connection).toBeUndefined();
      let text = "";
      stream.setEncoding("utf8");
      await new Promise<void>((resolve) =>
        stream.on("data", (chunk: string) => {
          text += chunk;
          if (text.includes("\n\n")) resolve();
        }),
      );
      expect(text).toMatch(/^event: hello\nid: \d+~1\ndata: \{"over":"h2"\}\n\n$/);
      stream.close();
      await until(() => se.hub.size === 0, "the h2 stream to leave");
    } finally {
      session.close();
      process.off("warning", onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
