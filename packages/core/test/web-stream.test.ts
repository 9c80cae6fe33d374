import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import {
  createEventResponse,
  createEventStream,
  EventHub,
  eventStreamHeaders,
} from "../src/index.js";
import { readBody, startServer, type TestServer, until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function makeHub(options: ConstructorParameters<typeof EventHub>[0] = {}): EventHub {
  const hub = new EventHub({ heartbeatMs: false, retry: false, ...options });
  cleanups.push(() => hub.close());
  return hub;
}

/** Serves `createEventResponse` from a real node:http server, the way a fetch-style server would. */
async function serveResponses(hub: EventHub): Promise<TestServer> {
  const server = await startServer((req, res) => {
    const controller = new AbortController();
    res.on("close", () => controller.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
    }
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      headers,
      signal: controller.signal,
    });
    const { response } = createEventResponse(hub, request, {
      seid: "web",
      headers: { "x-extra": "1" },
    });
    const outgoing: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      outgoing[name] = value;
    });
    res.writeHead(response.status, outgoing);
    res.flushHeaders();
    Readable.fromWeb(response.body as never).pipe(res);
  });
  cleanups.push(() => server.close());
  return server;
}

describe("Web streams", () => {
  it("createEventResponse: headers and exact events through fetch", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const server = await serveResponses(hub);
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const response = await fetch(server.url, { signal: controller.signal });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    expect(response.headers.get("x-extra")).toBe("1");
    const body = readBody(response);
    await until(() => hub.size === 1, "registered");
    hub.send("web", { event: "a", data: "1\n2" });
    hub.broadcast({ id: "7", data: { ok: true } });
    await until(() => body.events.length === 2, "two events");
    expect(body.text).toBe('event: a\ndata: 1\ndata: 2\n\nid: 7\ndata: {"ok":true}\n\n');
    controller.abort();
    await body.ended;
    await until(() => hub.size === 0 && hub.clients.size === 0, "removed after abort");
  });

  it("createEventResponse: a disconnect is seen even after the Request was garbage-collected", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const hub = makeHub({ autoGenerateId: false });
    // The adapter keeps no reference to the Request: it only aborts the signal it gave it.
    const server = await serveResponses(hub);
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const response = await fetch(server.url, { signal: controller.signal });
    const body = readBody(response);
    await until(() => hub.size === 1, "registered");
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    hub.broadcast({ data: "still here" });
    await until(() => body.events.length === 1, "an event after the GC");
    controller.abort();
    await body.ended;
    await until(() => hub.size === 0, "removed after abort, after a GC");
  });

  it("createEventResponse reads ?lastEventId= and replays", async () => {
    const hub = makeHub();
    const server = await serveResponses(hub);
    const from = hub.broadcast({ data: "old" }).id as string;
    hub.send("web", { data: "missed" });
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const response = await fetch(`${server.url}/?lastEventId=${from}`, {
      signal: controller.signal,
    });
    const body = readBody(response);
    await until(() => body.events.length === 1, "replayed");
    expect(body.events.map((e) => e.data)).toEqual(["missed"]);
  });

  it("createEventStream: read response.body directly; closing ends the stream", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const { stream, connection } = createEventStream(hub, { seid: "direct" });
    const response = new Response(stream, { headers: eventStreamHeaders(2) });
    expect(response.headers.get("connection")).toBeNull();
    const body = readBody(response);
    hub.send("direct", { data: "one" });
    connection.close();
    await body.ended;
    expect(body.text).toBe("data: one\n\n");
    expect(hub.size).toBe(0);
  });

  it("createEventStream: an aborted signal removes the connection", async () => {
    const hub = makeHub();
    const controller = new AbortController();
    const { stream, connection } = createEventStream(hub, { signal: controller.signal });
    const body = readBody(new Response(stream));
    expect(hub.size).toBe(1);
    controller.abort();
    await body.ended;
    expect(hub.size).toBe(0);
    expect(connection.closeReason).toBe("client-gone");
    const early = new AbortController();
    early.abort();
    createEventStream(hub, { signal: early.signal });
    expect(hub.size).toBe(0);
  });
});
