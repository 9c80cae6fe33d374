import { createParser, type EventSourceMessage } from "eventsource-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SeError, SseFormatError } from "./errors.js";
import {
  checkId,
  type EventMessage,
  formatComment,
  formatEvent,
  jsonSerializer,
} from "./format-event.js";
import { MAX_ID_LENGTH } from "./limits.js";

interface Parsed {
  events: EventSourceMessage[];
  comments: string[];
  retries: number[];
}

function parse(chunks: readonly string[]): Parsed {
  const parsed: Parsed = { events: [], comments: [], retries: [] };
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onComment: (comment) => parsed.comments.push(comment),
    onRetry: (retry) => parsed.retries.push(retry),
  });
  for (const chunk of chunks) parser.feed(chunk);
  return parsed;
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

function expectFormatError(run: () => unknown, field: string, code = "SE_ERR_INVALID_FIELD") {
  const error = catchError(run);
  expect(error).toBeInstanceOf(SseFormatError);
  expect(error).toBeInstanceOf(SeError);
  const formatError = error as SseFormatError;
  expect(formatError.code).toBe(code);
  expect(formatError.field).toBe(field);
  expect(formatError.rule.length).toBeGreaterThan(0);
  expect(formatError.message).toContain(`"${field}"`);
  expect(formatError.message).toContain(formatError.rule);
  return formatError;
}

const normalise = (text: string) => text.replace(/\r\n|\r/g, "\n");

describe("formatEvent: exact frames", () => {
  it.each<[string, EventMessage, string]>([
    ["single line data", { data: "hello" }, "data: hello\n\n"],
    ["LF split", { data: "a\nb" }, "data: a\ndata: b\n\n"],
    ["CRLF split into one line each", { data: "a\r\nb" }, "data: a\ndata: b\n\n"],
    ["lone CR split", { data: "a\rb" }, "data: a\ndata: b\n\n"],
    ["mixed breaks", { data: "1\r\n2\n3\r4" }, "data: 1\ndata: 2\ndata: 3\ndata: 4\n\n"],
    ["CRCR is two breaks", { data: "a\r\rb" }, "data: a\ndata: \ndata: b\n\n"],
    ["trailing LF keeps an empty line", { data: "a\n" }, "data: a\ndata: \n\n"],
    ["leading space survives", { data: " x" }, "data:  x\n\n"],
    ["empty string is a value", { data: "" }, "data: \n\n"],
    ["event and id", { event: "greet", id: "7", data: "hi" }, "event: greet\nid: 7\ndata: hi\n\n"],
    ["id 0 is real", { id: 0, data: "x" }, "id: 0\ndata: x\n\n"],
    ["empty id resets", { id: "", data: "x" }, "id: \ndata: x\n\n"],
    ["inner spaces in an id", { id: "a b  c", data: "x" }, "id: a b  c\ndata: x\n\n"],
    ["id of every printable ASCII class", { id: '~!"#:/?&=%{}' }, 'id: ~!"#:/?&=%{}\n\n'],
    ["negative and fractional ids", { id: -1.5, data: "x" }, "id: -1.5\ndata: x\n\n"],
    ["a large number id", { id: 1e21, data: "x" }, "id: 1e+21\ndata: x\n\n"],
    ["-0 as an id", { id: -0, data: "x" }, "id: 0\ndata: x\n\n"],
    ["retry 0 is real", { retry: 0 }, "retry: 0\n\n"],
    ["retry only is a frame", { retry: 1500 }, "retry: 1500\n\n"],
    ["comment only is a frame", { comment: "ping" }, ": ping\n\n"],
    ["empty comment", { comment: "" }, ": \n\n"],
    [
      "every field",
      { comment: "c", event: "e", id: "i", retry: 10, data: "d" },
      ": c\nevent: e\nid: i\nretry: 10\ndata: d\n\n",
    ],
    ["object through JSON", { data: { a: 1, b: "x\ny" } }, 'data: {"a":1,"b":"x\\ny"}\n\n'],
    ["number data through JSON", { data: 0 }, "data: 0\n\n"],
    ["null data through JSON", { data: null }, "data: null\n\n"],
    ["colon in data", { data: "a: b" }, "data: a: b\n\n"],
    ["NUL allowed in data", { data: "a\0b" }, "data: a\0b\n\n"],
  ])("%s", (_name, message, frame) => {
    expect(formatEvent(message)).toBe(frame);
  });

  it("ends every frame with exactly one blank line", () => {
    for (const message of [{ data: "x\n" }, { data: "x\r" }, { retry: 1 }, { comment: "c" }]) {
      const frame = formatEvent(message);
      expect(frame.endsWith("\n\n")).toBe(true);
      expect(frame.endsWith("\n\n\n")).toBe(false);
    }
  });

  it("sends strings as-is and other data through a replaceable serializer", () => {
    const upper = (data: unknown) => String((data as { v: string }).v).toUpperCase();
    expect(formatEvent({ data: { v: "abc" } }, upper)).toBe("data: ABC\n\n");
    expect(formatEvent({ data: "{not json" }, upper)).toBe("data: {not json\n\n");
    expect(formatEvent({ data: [1, 2] }, () => "one\ntwo")).toBe("data: one\ndata: two\n\n");
  });

  it("keeps JSON data on one line, even with line breaks in keys, values and toJSON", () => {
    const data = { "k\r\ny": ["a\nb", "c\rd"], nested: { toJSON: () => "e\nf" } };
    expect(formatEvent({ data })).toBe('data: {"k\\r\\ny":["a\\nb","c\\rd"],"nested":"e\\nf"}\n\n');
  });

  it("still splits the default serializer's output when JSON.stringify was replaced", () => {
    const original = JSON.stringify;
    JSON.stringify = (() => "one\ntwo") as typeof JSON.stringify;
    try {
      expect(formatEvent({ data: { a: 1 } })).toBe("data: one\ndata: two\n\n");
    } finally {
      JSON.stringify = original;
    }
  });

  it("rejects a serializer that returns no string", () => {
    expectFormatError(
      () => formatEvent({ data: {} }, () => undefined as unknown as string),
      "data",
      "SE_ERR_UNSERIALIZABLE_DATA",
    );
  });

  it("rejects circular and BigInt data with SE_ERR_UNSERIALIZABLE_DATA", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const error = expectFormatError(
      () => formatEvent({ data: circular }),
      "data",
      "SE_ERR_UNSERIALIZABLE_DATA",
    );
    expect(error.cause).toBeInstanceOf(TypeError);
    expectFormatError(() => formatEvent({ data: 10n }), "data", "SE_ERR_UNSERIALIZABLE_DATA");
    expectFormatError(() => jsonSerializer(() => 1), "data", "SE_ERR_UNSERIALIZABLE_DATA");
  });

  it("rejects a message that is not an object or carries no field", () => {
    expectFormatError(() => formatEvent(null as unknown as EventMessage), "message");
    expectFormatError(() => formatEvent({}), "message");
  });
});

describe("formatEvent: rejections", () => {
  it.each(["a\rb", "a\nb", "a\r\nb", "a\0b", "\n", "1\nevent: x"])("id %j", (id) => {
    expectFormatError(() => formatEvent({ id, data: "x" }), "id");
  });

  it.each<[string, string, string]>([
    [
      "LF",
      "1\nevent: x",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found LF (U+000A) at index 1",
    ],
    [
      "NUL",
      "a\0",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found NUL (U+0000) at index 1",
    ],
    [
      "TAB",
      "\t1",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found TAB (U+0009) at index 0",
    ],
    [
      "DEL",
      "a\x7f",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found U+007F at index 1",
    ],
    [
      "Latin-1",
      "caf\u00e9",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found U+00E9 at index 3",
    ],
    [
      "CJK (hole 11)",
      "u-\u6f22\u5b57-2",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found U+6F22 at index 2",
    ],
    [
      "astral",
      "\u{1d11e}",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found U+1D11E at index 0",
    ],
    [
      "lone surrogate",
      "a\ud800",
      "must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found U+D800 at index 1",
    ],
    [
      "leading space",
      " 1",
      "must not start or end with a space (HTTP trims them from Last-Event-ID)",
    ],
    [
      "trailing space",
      "1 ",
      "must not start or end with a space (HTTP trims them from Last-Event-ID)",
    ],
    ["one space", " ", "must not start or end with a space (HTTP trims them from Last-Event-ID)"],
    ["257 characters", "x".repeat(257), "must be at most 256 characters long, got 257"],
    [
      "a long non-ASCII id",
      "\u00e9".repeat(10_000),
      "must be at most 256 characters long, got 10000",
    ],
  ])("id with %s: exact rule, without the value", (_name, id, rule) => {
    const error = expectFormatError(() => formatEvent({ id, data: "x" }), "id");
    expect(error.rule).toBe(rule);
    expect(error.message).toBe(`Invalid SSE field "id": ${rule}`);
    expect(() => checkId(id)).toThrow(error.message);
  });

  it("rejects an id that is neither a string nor a number", () => {
    const error = expectFormatError(
      () => formatEvent({ id: null as unknown as string, data: "x" }),
      "id",
    );
    expect(error.rule).toBe("must be a string or a finite number, got null");
  });

  it.each(["a\rb", "a\nb", "x\r\ndata: injected"])("event %j", (event) => {
    expectFormatError(() => formatEvent({ event, data: "x" }), "event");
  });

  it.each(["a\rb", "a\nb", "a\r\nb"])("comment %j (rejected, never split)", (comment) => {
    expectFormatError(() => formatEvent({ comment }), "comment");
    expectFormatError(() => formatComment(comment), "comment");
  });

  it.each<[string, unknown]>([
    ["negative", -1],
    ["fraction", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["string", "100"],
    ["2**53", 2 ** 53],
  ])("retry %s", (_name, retry) => {
    expectFormatError(() => formatEvent({ retry: retry as number }), "retry");
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])("id number %d", (id) => {
    expectFormatError(() => formatEvent({ id, data: "x" }), "id");
  });

  it("rejects a non-string event", () => {
    expectFormatError(() => formatEvent({ event: 3 as unknown as string, data: "x" }), "event");
  });
});

describe("formatComment", () => {
  it("formats heartbeat and text comments", () => {
    expect(formatComment()).toBe(":\n\n");
    expect(formatComment("")).toBe(":\n\n");
    expect(formatComment("keep-alive")).toBe(": keep-alive\n\n");
    expect(formatComment(" two spaces")).toBe(":  two spaces\n\n");
  });

  it("is seen as a comment by the spec parser", () => {
    const parsed = parse([formatComment("hi there"), formatComment()]);
    expect(parsed.comments).toEqual(["hi there", ""]);
    expect(parsed.events).toEqual([]);
  });
});

describe("formatEvent → eventsource-parser", () => {
  it("delivers empty data as an empty string and an empty id as a reset", () => {
    const parsed = parse([formatEvent({ id: "", data: "" })]);
    expect(parsed.events).toEqual([{ id: "", event: undefined, data: "" }]);
  });

  it("keeps a value starting with a space", () => {
    expect(parse([formatEvent({ data: "  two" })]).events[0]?.data).toBe("  two");
  });

  it("delivers id 0 and retry 0", () => {
    const parsed = parse([formatEvent({ id: 0, retry: 0, data: "x" })]);
    expect(parsed.events).toEqual([{ id: "0", event: undefined, data: "x" }]);
    expect(parsed.retries).toEqual([0]);
  });

  it("delivers data-less frames as retry/comment without any event", () => {
    const parsed = parse([
      formatEvent({ retry: 25 }),
      formatEvent({ comment: "note" }),
      formatEvent({ event: "orphan" }),
      formatEvent({ id: "9" }),
      formatEvent({ data: "after" }),
    ]);
    expect(parsed.retries).toEqual([25]);
    expect(parsed.comments).toEqual(["note"]);
    // Event type and id of a data-less frame must not leak into the next event.
    expect(parsed.events).toEqual([{ id: undefined, event: undefined, data: "after" }]);
  });

  it("round-trips random messages, whole and in random chunks", () => {
    const lineish = fc.oneof(
      fc.string({ unit: "grapheme" }),
      fc.string({ unit: "binary" }),
      fc.constantFrom("\r", "\n", "\r\n", " ", ":", "data: x", "\uFEFF", "😀", "\0", ""),
    );
    const data = fc.array(lineish, { maxLength: 6 }).map((parts) => parts.join(""));
    const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
    const roundTripId = fc
      .string({ unit: printable, maxLength: MAX_ID_LENGTH })
      .filter((id) => !id.startsWith(" ") && !id.endsWith(" "));
    const singleLine = () =>
      fc
        .array(
          fc.oneof(
            fc.string({ unit: "grapheme" }),
            fc.constantFrom(" ", ":", "😀", "\uFEFF", "\0"),
          ),
          { maxLength: 4 },
        )
        .map((parts) => parts.join("").replace(/[\r\n]/g, ""));
    const message = fc.record(
      {
        data,
        event: singleLine(),
        id: fc.oneof(roundTripId, fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        retry: fc.nat(),
        comment: singleLine(),
      },
      { requiredKeys: ["data"] },
    );
    fc.assert(
      fc.property(message, fc.array(fc.nat({ max: 8 }), { minLength: 1 }), (input, cuts) => {
        const frame = formatEvent(input);
        const chunks: string[] = [];
        for (let at = 0, i = 0; at < frame.length; i++) {
          const size = (cuts[i % cuts.length] ?? 0) + 1;
          chunks.push(frame.slice(at, at + size));
          at += size;
        }
        for (const fed of [[frame], chunks]) {
          const parsed = parse(fed);
          expect(parsed.events).toEqual([
            {
              data: normalise(input.data),
              event: input.event === undefined || input.event === "" ? undefined : input.event,
              id: input.id === undefined ? undefined : String(input.id),
            },
          ]);
          expect(parsed.retries).toEqual(input.retry === undefined ? [] : [input.retry]);
          expect(parsed.comments).toEqual(input.comment === undefined ? [] : [input.comment]);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("adversarial corpus: round-trips exactly or throws", () => {
  const cases: Array<[string, EventMessage, "throws" | EventSourceMessage]> = [
    [
      "data with \\r\\n\\r\\n event injection",
      { data: "a\r\n\r\nevent: evil\r\ndata: injected" },
      { data: "a\n\nevent: evil\ndata: injected", event: undefined, id: undefined },
    ],
    [
      "data with \\n\\n then id",
      { data: "x\n\nid: 666\n\n" },
      { data: "x\n\nid: 666\n\n", event: undefined, id: undefined },
    ],
    ["id with \\nevent: x", { id: "1\nevent: x", data: "d" }, "throws"],
    ["id with \\r", { id: "1\r", data: "d" }, "throws"],
    ["id with NUL", { id: "1\0", data: "d" }, "throws"],
    ["event name with \\r", { event: "a\rb", data: "d" }, "throws"],
    ["event name with \\ndata:", { event: "a\ndata: x", data: "d" }, "throws"],
    ["comment with \\n\\ndata:", { comment: "c\n\ndata: injected" }, "throws"],
    [
      "data: lone trailing CR",
      { data: "end\r" },
      { data: "end\n", event: undefined, id: undefined },
    ],
    ["data: only CR", { data: "\r" }, { data: "\n", event: undefined, id: undefined }],
    [
      "BOM at start of data",
      { data: "\uFEFFhello" },
      { data: "\uFEFFhello", event: undefined, id: undefined },
    ],
    ["NUL in data", { data: "a\0b" }, { data: "a\0b", event: undefined, id: undefined }],
    [
      "retry injection via data",
      { data: "x\nretry: 1" },
      { data: "x\nretry: 1", event: undefined, id: undefined },
    ],
    ["retry injection via event", { event: "e\nretry: 1", data: "x" }, "throws"],
    [
      "colon-only line in data",
      { data: ":\n:comment" },
      { data: ":\n:comment", event: undefined, id: undefined },
    ],
    [
      "astral characters in data and event",
      { data: "𝄞😀", event: "😀", id: "1" },
      { data: "𝄞😀", event: "😀", id: "1" },
    ],
    ["astral characters in an id", { id: "𝄞", data: "d" }, "throws"],
    [
      "field-like event name",
      { event: "data: x", data: "y" },
      { data: "y", event: "data: x", id: undefined },
    ],
  ];

  it.each(cases)("%s", (_name, message, expected) => {
    if (expected === "throws") {
      expect(() => formatEvent(message)).toThrow(SseFormatError);
      return;
    }
    const frame = formatEvent(message);
    const parsed = parse([frame]);
    expect(parsed.events).toEqual([expected]);
    expect(parsed.retries).toEqual([]);
    expect(parse(frame.split("")).events).toEqual([expected]);
  });

  it("a BOM at the very start of a stream is not taken from the first value", () => {
    const bytes = new TextEncoder().encode(formatEvent({ data: "\uFEFFx" }));
    const text = new TextDecoder().decode(bytes);
    // The frame never starts with a BOM, so a decoder's BOM stripping cannot eat data.
    expect(text.startsWith("data: \uFEFF")).toBe(true);
  });
});
