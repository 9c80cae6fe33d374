import { PassThrough, Transform } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE, type SEOptions } from "../src/index.js";
import { listen, record, testApp, until } from "./helpers.js";

describe("seed options", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  async function start(options: SEOptions, route = "/events") {
    app = testApp();
    const se = new SE(options);
    await app.register(se.plugin);
    app.get(route, (request, reply) => {
      reply.sendEvent({ seid: request.seid });
    });
    app.get("/plain", (request) => ({ seid: request.seid }));
    app.post("/plain", (request) => ({ seid: request.seid }));
    return { se, base: await listen(app) };
  }

  it("gives every client a distinct, unguessable default seid", async () => {
    const { se, base } = await start({});
    const clients = Array.from({ length: 5 }, () => record(`${base}/events`));
    await until(() => clients.every((c) => c.events.length === 1), "five welcome events");
    const seids = clients.map((c) => JSON.parse(c.events[0]?.data ?? "{}").seid as string);
    expect(new Set(seids).size).toBe(5);
    for (const seid of seids) expect(seid).toMatch(/^[0-9a-f-]{36}$/);
    expect([...se.clients.keys()].sort()).toEqual([...seids].sort());
    for (const c of clients) c.source.close();
  });

  it("autoGenerateId: true gives increasing ids; false really sends none", async () => {
    const withIds = await start({});
    const a = record(`${withIds.base}/events`);
    await until(() => a.events.length === 1, "an event");
    expect(a.events[0]?.lastEventId).toMatch(/^\d+~1$/);
    a.source.close();
    await app.close();

    const without = await start({ autoGenerateId: false });
    const response = await fetch(`${without.base}/events`);
    const reader = response.body?.getReader();
    let text = "";
    while (!text.includes("\n\n{") && !text.includes("seid")) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    await reader?.cancel();
    expect(text).toContain("data: {");
    expect(text).not.toMatch(/^id:/m);
  });

  it("request.seid is set on every GET request, null on others; plain routes are no clients", async () => {
    const { se, base } = await start({ seidGenerator: () => "fixed" });
    const get = await (await fetch(`${base}/plain`)).json();
    const post = await (await fetch(`${base}/plain`, { method: "POST" })).json();
    expect(get).toEqual({ seid: "fixed" });
    expect(post).toEqual({ seid: null });
    expect(se.clients.size).toBe(0);
    expect(se.hub.size).toBe(0);
  });

  it.each([
    ["sync", (() => "sync-seid") as SEOptions["seidGenerator"], "sync-seid"],
    ["async", (async () => "async-seid") as SEOptions["seidGenerator"], "async-seid"],
    [
      "callback (seed form)",
      ((_req, _reply, done) => {
        setTimeout(() => done(null, "cb-seid"), 1);
        return undefined;
      }) as SEOptions["seidGenerator"],
      "cb-seid",
    ],
  ])("seidGenerator in %s form", async (_form, seidGenerator, expected) => {
    const { se, base } = await start({ seidGenerator });
    const c = record(`${base}/events`);
    await until(() => c.events.length === 1, "an event");
    expect(JSON.parse(c.events[0]?.data ?? "").seid).toBe(expected);
    expect(se.clients.has(expected)).toBe(true);
    c.source.close();
  });

  it("a seidGenerator that gives no string answers 500 with a coded error", async () => {
    app = testApp();
    const se = new SE({ seidGenerator: () => "" });
    await app.register(se.plugin);
    app.get("/events", (_request, reply) => {
      reply.sendEvent("never");
    });
    const response = await app.inject({ method: "GET", url: "/events" });
    expect(response.statusCode).toBe(500);
    expect(response.json().code).toBe("FST_ERR_SE_INVALID_SEID");
    expect(se.hub.size).toBe(0);
  });

  it("clients is a live, read-only view", async () => {
    const { se, base } = await start({ seidGenerator: () => "tab" });
    expect(se.clients.size).toBe(0);
    const c = record(`${base}/events`);
    await until(() => se.clients.size === 1, "a client");
    expect(se.clients.get("tab")?.size).toBe(1);
    expect((se.clients as unknown as Map<string, unknown>).set).toBeUndefined();
    expect((se.clients as unknown as Map<string, unknown>).delete).toBeUndefined();
    c.source.close();
    await until(() => se.clients.size === 0, "the client to leave");
  });

  it("stream/streamOptions: events go through the given stream class", async () => {
    const seen: string[] = [];
    class Tap extends Transform {
      override _transform(chunk: Buffer, _enc: BufferEncoding, done: (e: null, c: Buffer) => void) {
        seen.push(chunk.toString());
        done(null, chunk);
      }
    }
    const { base } = await start({ stream: Tap, streamOptions: { allowHalfOpen: false } });
    const c = record(`${base}/events`);
    await until(() => c.events.length === 1, "an event");
    expect(seen.join("")).toContain("data: {");
    c.source.close();
  });

  it("stream: PassThrough behaves like the default", async () => {
    const { se, base } = await start({ stream: PassThrough });
    const c = record(`${base}/events`);
    await until(() => c.events.length === 1, "an event");
    c.source.close();
    await until(() => se.hub.size === 0, "the client to leave");
  });

  it("rejects a stream option that is not a class", () => {
    expect(() => new SE({ stream: "PassThrough" as unknown as SEOptions["stream"] })).toThrow(
      /stream/,
    );
  });
});
