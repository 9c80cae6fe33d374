import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect } from "node:net";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidLastEventIdError, SseFormatError } from "./errors.js";
import { eventStreamHeaders, readLastEventId } from "./event-stream-headers.js";
import { checkId, formatEvent } from "./format-event.js";
import { checkLastEventId, MAX_ID_LENGTH } from "./limits.js";

describe("eventStreamHeaders", () => {
  it("sends connection: keep-alive on HTTP/1 only", () => {
    expect(eventStreamHeaders()).toEqual({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    });
    expect(eventStreamHeaders(2)).not.toHaveProperty("connection");
  });
});

describe("readLastEventId", () => {
  it.each<[string, string | string[] | null | undefined, string | undefined, string | undefined]>([
    ["a header", "42", "/events", "42"],
    ["the first of several headers", ["7", "8"], "/events", "7"],
    ["the header over the query", "42", "/events?lastEventId=1", "42"],
    ["the query without a header", undefined, "/events?lastEventId=1", "1"],
    ["the query when the header is empty", "", "/events?a=b&lastEventId=x%20y", "x y"],
    ["the query when the header is null", null, "/events?lastEventId=%E6%BC%A2", "漢"],
    ["nothing for an empty query value", undefined, "/events?lastEventId=", undefined],
    ["nothing without a query", undefined, "/events", undefined],
    ["nothing without a url", undefined, undefined, undefined],
  ])("reads %s", (_name, header, url, expected) => {
    expect(readLastEventId(header, url)).toBe(expected);
  });

  it("returns a header value as received, one character per byte", () => {
    const latin1 = Buffer.from("é", "utf8").toString("latin1");
    expect(latin1).toBe("Ã©");
    expect(readLastEventId(latin1, "/events")).toBe("Ã©");
  });
});

/** A real node:http server that answers with the Last-Event-ID it read, as Latin-1 bytes. */
describe("Last-Event-ID over real HTTP", () => {
  let server: Server;
  let base: string;
  let received: { header: string | undefined; read: string | undefined; error?: string };

  function answer(req: IncomingMessage): void {
    // Node joins repeated unknown headers into one string.
    const header = req.headers["last-event-id"] as string | undefined;
    const read = readLastEventId(header, req.url);
    received = { header, read };
    try {
      checkLastEventId(read);
    } catch (error) {
      received.error = InvalidLastEventIdError.isInstance(error) ? error.code : String(error);
    }
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      answer(req);
      res.end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  });

  async function sendBack(lastEventId: string): Promise<typeof received> {
    const response = await fetch(`${base}/events`, { headers: { "Last-Event-ID": lastEventId } });
    await response.arrayBuffer();
    return received;
  }

  /** Sends raw header bytes, as a browser does for a non-ASCII id (UTF-8). */
  async function sendRaw(headerBytes: Buffer): Promise<typeof received> {
    const socket = connect(Number(new URL(base).port), "127.0.0.1");
    await once(socket, "connect");
    socket.end(
      Buffer.concat([
        Buffer.from("GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nLast-Event-ID: "),
        headerBytes,
        Buffer.from("\r\n\r\n"),
      ]),
    );
    socket.resume();
    await once(socket, "close");
    return received;
  }

  function parsedId(frame: string): string | undefined {
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    parser.feed(frame);
    expect(events).toHaveLength(1);
    return events[0]?.id;
  }

  it("a non-ASCII id sent as UTF-8 arrives as Latin-1 and is refused (hole 11)", async () => {
    const got = await sendRaw(Buffer.from("u-漢字-2", "utf8"));
    expect(got.header).toBe(Buffer.from("u-漢字-2", "utf8").toString("latin1"));
    expect(got.error).toBe("SE_ERR_INVALID_LAST_EVENT_ID");
    // And such an id can no longer be written in the first place.
    expect(() => checkId("u-漢字-2")).toThrow(SseFormatError);
  });

  it("HTTP trims spaces at either end: why an id may not have them", async () => {
    expect((await sendBack("  a b  ")).header).toBe("a b");
  });

  it("a Last-Event-ID over 512 characters is refused", async () => {
    expect((await sendBack("9".repeat(512))).error).toBeUndefined();
    expect((await sendBack("9".repeat(513))).error).toBe("SE_ERR_INVALID_LAST_EVENT_ID");
  });

  it("any id checkId accepts comes back byte-identical through formatEvent, the parser and fetch; any other is refused", async () => {
    const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
    const candidate = fc.oneof(
      fc.string({ unit: printable, maxLength: 40 }),
      fc.string({ unit: printable, minLength: MAX_ID_LENGTH - 2, maxLength: MAX_ID_LENGTH + 2 }),
      fc
        .tuple(
          fc.constantFrom(" ", "", "\t"),
          fc.string({ unit: printable }),
          fc.constantFrom(" ", "", "\t"),
        )
        .map(([head, body, tail]) => head + body + tail),
      fc.string({ unit: "binary", maxLength: 20 }),
      fc.string({ unit: "binary-ascii", maxLength: 20 }),
      fc.double(),
      fc.integer(),
    );
    const roundTrips = (id: string) =>
      id.length <= MAX_ID_LENGTH &&
      !id.startsWith(" ") &&
      !id.endsWith(" ") &&
      id.split("").every((c) => c >= " " && c <= "~");

    await fc.assert(
      fc.asyncProperty(candidate, async (id) => {
        const wireId = typeof id === "number" ? (Number.isFinite(id) ? String(id) : undefined) : id;
        if (wireId === undefined || !roundTrips(wireId)) {
          expect(() => formatEvent({ id, data: "x" })).toThrow(SseFormatError);
          expect(() => checkId(id)).toThrow(expect.objectContaining({ field: "id" }));
          return;
        }
        const parsed = parsedId(formatEvent({ id, data: "x" }));
        expect(parsed).toBe(wireId);
        // An empty id resets the client's last event id: it sends no Last-Event-ID at all.
        if (parsed === "" || parsed === undefined) return;
        const got = await sendBack(parsed);
        expect(got.error).toBeUndefined();
        expect(got.read).toBe(wireId);
        expect(Buffer.from(got.header ?? "", "latin1").equals(Buffer.from(wireId, "utf8"))).toBe(
          true,
        );
      }),
      { numRuns: 300 },
    );
  });
});
