import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import {
  EventTimeoutError,
  SeTestingError,
  StreamConnectError,
  StreamDecodeError,
  StreamEndedError,
  StreamResponseError,
} from "./errors.js";
import { openStream } from "./open-stream.js";
import type { StreamEventOf } from "./stream-event.js";
import { waitFor } from "./wait-for.js";

/** A plain node:http server whose handler writes raw frames; records each request's headers. */
function frameServer(handle: (response: ServerResponse, request: number) => void) {
  const requests: IncomingHttpHeaders[] = [];
  const responses: ServerResponse[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    responses.push(res);
    handle(res, requests.length - 1);
  });
  servers.push(server);
  return { server, requests, responses };
}

function eventStream(res: ServerResponse, ...frames: string[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const frame of frames) res.write(frame);
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe("openStream on a node:http server", () => {
  it("starts a server that is not listening on 127.0.0.1:0 and parses every field", async () => {
    const { server } = frameServer((res) =>
      eventStream(
        res,
        "retry: 1500\n\n",
        ": ping\n\n",
        "event: greeting\nid: 1\ndata: hello\ndata: world\n\n",
        "data: plain\n\n",
        "retry: 200\ndata: with retry\n\n",
      ),
    );
    expect(server.listening).toBe(false);
    await using stream = await openStream(server, { path: "/events" });
    const address = server.address() as AddressInfo;
    expect(address.address).toBe("127.0.0.1");
    expect(stream.url).toBe(`http://127.0.0.1:${address.port}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toBe("text/event-stream");

    expect(await stream.next()).toEqual({ event: "greeting", data: "hello\nworld", id: "1" });
    expect(await stream.next()).toEqual({ event: "message", data: "plain", id: undefined });
    expect(await stream.next()).toEqual({ event: "message", data: "with retry", id: undefined });
    expect(stream.lastEventId).toBe("1");
    expect(stream.retry).toBe(200);
    expect(stream.comments).toBe(1);
    expect(stream.events.map((event) => event.data)).toEqual([
      "hello\nworld",
      "plain",
      "with retry",
    ]);
  });

  it("waitFor consumes up to the event named or matched, from events that arrived earlier", async () => {
    const { server } = frameServer((res) =>
      eventStream(res, "data: a\n\n", "event: tick\ndata: 1\n\n", "data: b\n\n", "data: c\n\n"),
    );
    const stream = await openStream(server);
    await waitFor(() => stream.events.length === 4, "four events");
    expect((await stream.waitFor("tick")).data).toBe("1");
    expect((await stream.waitFor((event) => event.data === "c")).data).toBe("c");
    await expect(stream.next({ timeoutMs: 50 })).rejects.toBeInstanceOf(EventTimeoutError);
    await stream.close();
  });

  it("fails a wait with EventTimeoutError naming what it awaited, how long, and the last events", async () => {
    const { server } = frameServer((res) =>
      eventStream(res, 'event: tick\nid: 7\ndata: {"n":1}\n\n'),
    );
    await using stream = await openStream(server);
    const error = await stream.waitFor("done", { timeoutMs: 100 }).catch((caught) => caught);
    expect(error).toBeInstanceOf(EventTimeoutError);
    expect(SeTestingError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "SE_TESTING_EVENT_TIMEOUT", awaited: 'event "done"' });
    expect(error.message).toBe(
      `Timed out after 100 ms waiting for event "done" on ${stream.url}; ` +
        '1 event received; the last: tick (id 7): "{\\"n\\":1}"',
    );
    expect(error.lastEvents).toEqual([{ event: "tick", data: '{"n":1}', id: "7" }]);
  });

  it("take(n) shares one deadline and reports which event was missing", async () => {
    const { server } = frameServer((res) => eventStream(res, "data: 1\n\n", "data: 2\n\n"));
    await using stream = await openStream(server);
    const error = await stream.take(3, { timeoutMs: 150 }).catch((caught) => caught);
    expect(error).toBeInstanceOf(EventTimeoutError);
    expect(error.message).toMatch(/^Timed out after 150 ms waiting for event 3 of 3 on /);
  });

  it("ends iteration when the server ends the stream, and resolves closed with by: server", async () => {
    const { server } = frameServer((res) => {
      eventStream(res, "id: 1\ndata: one\n\n", "id: 2\ndata: two\n\n");
      res.end("data: cut off without its blank line");
    });
    const stream = await openStream(server);
    const seen: string[] = [];
    for await (const event of stream) seen.push(event.data);
    expect(seen).toEqual(["one", "two"]);
    expect(await stream.closed).toEqual({ by: "server" });
    expect(stream.open).toBe(false);
    const error = await stream.next().catch((caught) => caught);
    expect(error).toBeInstanceOf(StreamEndedError);
    expect(error).toMatchObject({ code: "SE_TESTING_STREAM_ENDED", by: "server" });
    expect(error.message).toContain("the server ended the stream; 2 events received");
  });

  it("close() aborts the request: the server sees it go, a pending wait rejects", async () => {
    const closed: boolean[] = [];
    const { server } = frameServer((res) => {
      eventStream(res, ": open\n\n");
      res.on("close", () => closed.push(true));
    });
    const stream = await openStream(server);
    const pending = stream.next({ timeoutMs: 10_000 });
    await stream.close();
    await expect(pending).rejects.toMatchObject({ by: "client" });
    expect(await stream.closed).toEqual({ by: "client" });
    await waitFor(() => closed.length === 1, "the server to see the request close");
    await stream.close(); // twice is fine
  });

  it("await using closes the stream at the end of the block", async () => {
    const closed: boolean[] = [];
    const { server } = frameServer((res) => {
      eventStream(res, "data: hi\n\n");
      res.on("close", () => closed.push(true));
    });
    {
      await using stream = await openStream(server);
      expect((await stream.next()).data).toBe("hi");
    }
    await waitFor(() => closed.length === 1, "the server to see the request close");
  });

  it("reconnect() sends the last event id as Last-Event-ID, and keeps it when no id came", async () => {
    const { server, requests } = frameServer((res, n) =>
      eventStream(res, n === 0 ? "id: a1\ndata: first\n\ndata: no id\n\n" : `data: again ${n}\n\n`),
    );
    const first = await openStream(server, { headers: { Authorization: "Bearer t" } });
    await first.take(2);
    expect(first.lastEventId).toBe("a1");
    const second = await first.reconnect();
    expect(first.open).toBe(false);
    expect((await second.next()).data).toBe("again 1");
    const third = await second.reconnect();
    expect((await third.next()).data).toBe("again 2");
    await third.close();
    expect(requests.map((headers) => headers["last-event-id"])).toEqual([undefined, "a1", "a1"]);
    expect(requests.map((headers) => headers.authorization)).toEqual(Array(3).fill("Bearer t"));
    expect(requests[0]?.accept).toBe("text/event-stream");
  });

  it("sends lastEventId as the Last-Event-ID header", async () => {
    const { server, requests } = frameServer((res) => eventStream(res, ": hi\n\n"));
    const stream = await openStream(server, { lastEventId: "42" });
    expect(stream.lastEventId).toBe("42");
    await stream.close();
    expect(requests[0]?.["last-event-id"]).toBe("42");
  });

  it("rejects a non-200 answer with StreamResponseError carrying status, headers and body", async () => {
    const { server } = frameServer((res) => {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "3" });
      res.end('{"message":"too many"}');
    });
    const error = await openStream(server).catch((caught) => caught);
    expect(error).toBeInstanceOf(StreamResponseError);
    expect(error).toMatchObject({
      code: "SE_TESTING_BAD_RESPONSE",
      status: 429,
      contentType: "application/json",
      body: '{"message":"too many"}',
    });
    expect(error.headers.get("retry-after")).toBe("3");
    expect(error.message).toContain("got HTTP 429");
  });

  it("rejects a 200 that is not text/event-stream", async () => {
    const { server } = frameServer((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("hello");
    });
    await expect(openStream(server)).rejects.toMatchObject({
      status: 200,
      contentType: "text/plain",
      body: "hello",
      message: expect.stringContaining('content-type "text/plain", not text/event-stream'),
    });
  });

  it("rejects with StreamConnectError when nothing listens, or no headers come in time", async () => {
    const { server } = frameServer(() => {}); // never answers
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const slow = await openStream(server, { timeoutMs: 100 }).catch((caught) => caught);
    expect(slow).toBeInstanceOf(StreamConnectError);
    expect(slow.message).toContain("no response headers within 100 ms");

    const port = (server.address() as AddressInfo).port;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const refused = await openStream(`http://127.0.0.1:${port}/`).catch((caught) => caught);
    expect(refused).toBeInstanceOf(StreamConnectError);
    expect(refused.message).toBe(
      `Could not open an event stream to http://127.0.0.1:${port}/: ECONNREFUSED`,
    );
  });

  it("decodes JSON data into a typed event map; bad JSON fails the wait with StreamDecodeError", async () => {
    type Events = { tick: { n: number }; message: string };
    const { server } = frameServer((res) =>
      eventStream(res, 'event: tick\ndata: {"n":1}\n\n', "event: tick\ndata: {oops\n\n"),
    );
    await using stream = await openStream<Events>(server, { decode: "json" });
    const tick = await stream.waitFor("tick");
    expectTypeOf(tick).toEqualTypeOf<StreamEventOf<"tick", { n: number }>>();
    expect(tick.data).toEqual({ n: 1 });
    const error = await stream.next().catch((caught) => caught);
    expect(error).toBeInstanceOf(StreamDecodeError);
    expect(error.event).toEqual({ event: "tick", data: "{oops", id: undefined });
    expect(await stream.closed).toMatchObject({ by: "client", error });
  });

  it("types events as a union discriminated by name", async () => {
    type Events = { greeting: string; count: number };
    const { server } = frameServer((res) =>
      eventStream(res, "event: count\ndata: 3\n\n", "event: greeting\ndata: hi\n\n"),
    );
    await using stream = await openStream<Events>(server, {
      decode: (data, event) => (event === "count" ? Number(data) : data),
    });
    const event = await stream.next();
    if (event.event === "count") {
      expectTypeOf(event.data).toEqualTypeOf<number>();
      expect(event.data).toBe(3);
    } else {
      throw new Error(`expected count first, got ${event.event}`);
    }
    const greeting = await stream.waitFor(
      (e): e is StreamEventOf<"greeting", string> => e.event === "greeting",
    );
    expectTypeOf(greeting.data).toEqualTypeOf<string>();
    expect(greeting.data).toBe("hi");
  });
});
