import { once } from "node:events";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { type Connection, EventHub, type SeError, SeOptionError } from "../src/index.js";
import { openEventStream } from "../src/node/index.js";
import { readBody, startServer, type TestServer, until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(hub: EventHub, onOpen?: (c: Connection) => void): Promise<TestServer> {
  const server = await startServer((req, res) => {
    const connection = openEventStream(hub, req, res, {
      seid: new URL(req.url ?? "/", "http://x").searchParams.get("seid") ?? undefined,
    });
    onOpen?.(connection);
  });
  cleanups.push(() => server.close());
  return server;
}

function makeHub(options: ConstructorParameters<typeof EventHub>[0] = {}): EventHub {
  const hub = new EventHub({ heartbeatMs: false, ...options });
  cleanups.push(() => hub.close());
  return hub;
}

describe("openEventStream over node:http, read by the eventsource client", () => {
  it("delivers multi-line and JSON data exactly", async () => {
    const hub = makeHub();
    const server = await serve(hub);
    const source = new EventSource(`${server.url}/?seid=alice`);
    cleanups.push(() => source.close());
    const got: Array<{ type: string; data: string; id: string }> = [];
    const record = (event: MessageEvent) =>
      got.push({ type: event.type, data: event.data, id: event.lastEventId });
    source.onmessage = record;
    source.addEventListener("custom", record);
    await once(source, "open");
    const a = hub.send("alice", { data: "line 1\nline 2\r\nline 3\rline 4" }).id;
    const b = hub.send("alice", { event: "custom", data: { text: "é😀\n", list: [1, 2] } }).id;
    const c = hub.broadcast({ data: "  leading spaces", id: "" }).id;
    await until(() => got.length === 3, "three events");
    expect(got).toEqual([
      { type: "message", data: "line 1\nline 2\nline 3\nline 4", id: a },
      { type: "custom", data: '{"text":"é😀\\n","list":[1,2]}', id: b },
      { type: "message", data: "  leading spaces", id: "" },
    ]);
    expect(c).toBe("");
  });

  it("sends the head with the first write (one packet), and alone when there is nothing to write", async () => {
    for (const [retry, expected] of [
      [undefined, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n[0-9a-f]+\r\nretry: \d+\n\n\r\n$/],
      [false, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n$/],
    ] as const) {
      const hub = makeHub(retry === false ? { retry: false } : {});
      const server = await serve(hub);
      const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1");
      cleanups.push(() => socket.destroy());
      socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      const [first] = (await once(socket, "data")) as [Buffer];
      expect(first.toString("latin1")).toMatch(expected);
    }
  });

  it("a client that connects while close() drains gets its retry and an end (it tries again later), not an error", async () => {
    const hub = new EventHub({ heartbeatMs: false, drainMs: 2000 });
    const server = await serve(hub);
    // Three streams to drain: the first ends a third of the window in, the last at its end.
    const open = await Promise.all([1, 2, 3].map(async () => readBody(await fetch(server.url))));
    await until(() => hub.size === 3, "connected");
    const closing = hub.close();
    const during = await fetch(server.url);
    expect(during.status).toBe(200);
    const body = readBody(during);
    await body.ended;
    expect(body.retries).toHaveLength(1);
    expect(body.events).toEqual([]);
    await Promise.all(open.map((stream) => stream.ended));
    await closing;
    expect(() => hub.checkConnect()).toThrow(
      expect.objectContaining({ code: "SE_ERR_HUB_CLOSED" }),
    );
  });

  it("answers an HTTP/1.0 request without connection: keep-alive (its body ends with the connection)", async () => {
    const hub = makeHub();
    const server = await serve(hub);
    const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1");
    cleanups.push(() => socket.destroy());
    socket.write("GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    const [first] = (await once(socket, "data")) as [Buffer];
    const head = first.toString("latin1").split("\r\n\r\n")[0] ?? "";
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toMatch(/\r\ncontent-type: text\/event-stream; charset=utf-8/);
    expect(head.toLowerCase()).not.toContain("connection: keep-alive");
    let rest = "";
    socket.on("data", (chunk: Buffer) => {
      rest += chunk.toString("latin1");
    });
    hub.broadcast({ data: "over 1.0" });
    // No chunked framing on HTTP/1.0: the event's bytes as they are.
    await until(() => /(^|\n)id: \d+\ndata: over 1\.0\n\n$/.test(rest), "the event, unframed");
  });

  it("sends the event-stream headers on HTTP/1.1", async () => {
    const hub = makeHub();
    const server = await serve(hub);
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const response = await fetch(server.url, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    expect(response.headers.get("connection")).toBe("keep-alive");
    const body = readBody(response);
    await until(() => body.retries.length === 1, "retry frame");
    // The default retry (3000) with its default jitter (up to +50 %).
    expect(body.text).toMatch(/^retry: (\d+)\n\n$/);
    const retry = Number(/\d+/.exec(body.text)?.[0]);
    expect(retry).toBeGreaterThanOrEqual(3000);
    expect(retry).toBeLessThanOrEqual(4500);
  });

  it("works over node:http2 with no connection header and no warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    cleanups.push(() => process.off("warning", onWarning));
    const hub = makeHub({ autoGenerateId: false });
    const server = http2.createServer((req, res) => {
      openEventStream(hub, req, res, { seid: "h2" });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    cleanups.push(() => session.destroy());
    const request = session.request({ ":path": "/", "last-event-id": "" });
    const [headers] = (await once(request, "response")) as [http2.IncomingHttpHeaders];
    expect(headers[":status"]).toBe(200);
    expect(headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(headers["cache-control"]).toBe("no-cache, no-transform");
    expect(headers["x-accel-buffering"]).toBe("no");
    expect(headers.connection).toBeUndefined();
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      text += chunk;
    });
    await until(() => hub.size === 1, "registered");
    hub.send("h2", { event: "x", data: "over\nh2" });
    await until(() => text.endsWith("data: h2\n\n"), "event over h2");
    expect(text).toMatch(/^retry: \d{4}\n\nevent: x\ndata: over\ndata: h2\n\n$/);
    request.close();
    await until(() => hub.size === 0 && hub.clients.size === 0, "h2 stream removed");
    expect(warnings).toEqual([]);
  });

  it("adds extra headers but lets the event-stream ones win", async () => {
    const hub = makeHub();
    const server = await startServer((req, res) => {
      openEventStream(hub, req, res, {
        headers: { "access-control-allow-origin": "*", "cache-control": "public" },
      });
    });
    cleanups.push(() => server.close());
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const response = await fetch(server.url, { signal: controller.signal });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
  });

  it("throws before any header for bad input (bad seid), so the caller can answer 4xx", async () => {
    const hub = makeHub();
    const errors: unknown[] = [];
    const server = await startServer((req, res) => {
      try {
        openEventStream(hub, req, res, { seid: "" });
      } catch (error) {
        errors.push(error);
        expect(res.headersSent).toBe(false);
        res.writeHead(400, { "content-type": "text/plain" }).end((error as Error).message);
      }
    });
    cleanups.push(() => server.close());
    const response = await fetch(server.url);
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('Invalid option "seid": must be a non-empty string, got ""');
    expect(errors).toHaveLength(1);
    expect(SeOptionError.isInstance(errors[0])).toBe(true);
    expect(hub.size).toBe(0);
  });

  it("throws before any header for a Last-Event-ID that cannot be one of ours", async () => {
    const hub = makeHub();
    const codes: unknown[] = [];
    const server = await startServer((req, res) => {
      try {
        openEventStream(hub, req, res);
      } catch (error) {
        codes.push((error as SeError).code);
        res.writeHead(400).end();
      }
    });
    cleanups.push(() => server.close());
    const long = await fetch(server.url, { headers: { "last-event-id": "x".repeat(513) } });
    expect(long.status).toBe(400);
    const query = await fetch(`${server.url}/?lastEventId=${encodeURIComponent("u-漢字")}`);
    expect(query.status).toBe(400);
    expect(codes).toEqual(["SE_ERR_INVALID_LAST_EVENT_ID", "SE_ERR_INVALID_LAST_EVENT_ID"]);
    expect(hub.size).toBe(0);
  });
});

describe("client disconnect removes the registry entry (real sockets)", () => {
  it("when the fetch is aborted", async () => {
    const hub = makeHub();
    const server = await serve(hub);
    const controller = new AbortController();
    const response = await fetch(`${server.url}/?seid=f`, { signal: controller.signal });
    const body = readBody(response);
    await until(() => hub.size === 1, "registered");
    controller.abort();
    await body.ended;
    await until(() => hub.size === 0 && hub.clients.size === 0, "removed after abort");
  });

  it("when the EventSource is closed", async () => {
    const hub = makeHub();
    const closed: string[] = [];
    hub.on("disconnect", (c, reason) => closed.push(`${c.seid} ${reason}`));
    const server = await serve(hub);
    const source = new EventSource(`${server.url}/?seid=es`);
    await once(source, "open");
    await until(() => hub.clients.has("es"), "registered");
    source.close();
    await until(() => hub.size === 0 && hub.clients.size === 0, "removed after close");
    expect(closed).toEqual(["es client-gone"]);
  });

  it("when the socket is destroyed, and the connection's signal aborts", async () => {
    const hub = makeHub();
    let connection: Connection | undefined;
    const server = await serve(hub, (c) => {
      connection = c;
    });
    const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1");
    cleanups.push(() => socket.destroy());
    socket.write("GET /?seid=raw HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    await once(socket, "data");
    await until(() => hub.size === 1, "registered");
    const signal = (connection as Connection).signal;
    socket.destroy();
    await until(() => hub.size === 0 && hub.clients.size === 0, "removed after destroy");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe("client-gone");
    expect(connection?.closed).toBe(true);
    expect(() => connection?.send({ data: "x" })).toThrow(/closed/);
  });
});
