/**
 * Backs the root README's encoding comparison: each library's own encoder, on inputs a careless
 * or hostile caller can pass, read back by a spec parser (eventsource-parser). An outcome is
 * `exact` (one event, the same type, id and data), `rejected` (the library throws), or `wrong`
 * (anything else: lost or altered data, an injected field or event).
 *
 * The peers' outcomes are recorded below for the pinned versions in package.json; a peer that
 * changes behavior fails this test, and the README's table must then be updated.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Encoder, libraryEncoders, type Message, startFastifySse } from "./peer-encoding.js";

type Outcome = "exact" | "rejected" | "wrong";

const cases: Record<string, Message> = {
  "plain data": { data: "hello" },
  "data with LF": { data: "line 1\nline 2" },
  "data with CRLF": { data: "line 1\r\nline 2" },
  "data with lone CR": { data: "line 1\rline 2" },
  "data with a leading space": { data: " indented" },
  "data ending in LF": { data: "line\n" },
  "empty data": { data: "" },
  "event name with LF": { event: "note\ndata: injected", data: "real" },
  "event name with CR": { event: "note\rdata: injected", data: "real" },
  "id with LF": { id: "7\nevent: hijack", data: "real" },
  "id with NUL": { id: "7\u00008", data: "real" },
};

/** What a client receives for `wire`, per the WHATWG parsing rules. */
function parse(wire: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  parser.feed(wire);
  return events;
}

async function outcome(encoder: Encoder, message: Message): Promise<Outcome> {
  let wire: string;
  try {
    wire = await encoder.encode(message);
  } catch {
    return "rejected";
  }
  const events = parse(wire);
  if (events.length !== 1) return "wrong";
  const [event] = events as [EventSourceMessage];
  let data: string;
  try {
    data = encoder.decodeData(event.data);
  } catch {
    return "wrong";
  }
  // The format carries lines, not line-break characters: a client receives CR, LF and CRLF in
  // data as LF. Receiving the original string (a JSON-decoding library) is exact too.
  const lines = message.data.replace(/\r\n|\r/g, "\n");
  const same =
    event.event === message.event &&
    event.id === message.id &&
    (data === message.data || data === lines);
  return same ? "exact" : "wrong";
}

const injectable: Record<string, Outcome> = {
  "event name with LF": "wrong",
  "event name with CR": "wrong",
  "id with LF": "wrong",
  "id with NUL": "wrong",
};
/** Data that is JSON-encoded arrives exact; event names and ids are written unchecked. */
const jsonData: Record<string, Outcome> = {
  "plain data": "exact",
  "data with LF": "exact",
  "data with CRLF": "exact",
  "data with lone CR": "exact",
  "data with a leading space": "exact",
  "data ending in LF": "exact",
  "empty data": "exact",
  ...injectable,
};
/** Outcomes of the pinned peer versions, read off their encoders (see the README table). */
const peerOutcomes: Record<string, Record<string, Outcome>> = {
  // Splits data on LF only (a lone CR ends a line for the client) and drops empty data.
  "fastify-sse-v2": {
    ...jsonData,
    "data with lone CR": "wrong",
    "empty data": "wrong",
  },
  "better-sse": jsonData,
  "@fastify/sse": jsonData,
};

const encoders: Encoder[] = [...libraryEncoders];
let closeFastifySse: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const started = await startFastifySse();
  encoders.push(started.encoder);
  closeFastifySse = started.close;
});
afterAll(async () => {
  await closeFastifySse?.();
});

async function table(): Promise<Record<string, Record<string, Outcome>>> {
  const result: Record<string, Record<string, Outcome>> = {};
  for (const encoder of encoders) {
    const row: Record<string, Outcome> = {};
    for (const [name, message] of Object.entries(cases))
      row[name] = await outcome(encoder, message);
    result[encoder.name] = row;
  }
  return result;
}

describe("encoding comparison (root README)", () => {
  it("se sends every case exactly or rejects it; the peers behave as the README says", async () => {
    const result = await table();
    console.table(result);
    const se = result.se as Record<string, Outcome>;
    for (const [name, value] of Object.entries(se)) {
      expect(value, `se, ${name}`).not.toBe("wrong");
    }
    expect(se["data with lone CR"]).toBe("exact");
    expect(se["event name with LF"]).toBe("rejected");
    for (const [peer, expected] of Object.entries(peerOutcomes)) {
      expect(result[peer], peer).toEqual(expected);
    }
  });
});
