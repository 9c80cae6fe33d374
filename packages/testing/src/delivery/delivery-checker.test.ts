import { describe, expect, it } from "vitest";
import {
  type ClientRecord,
  type ConnectionRecord,
  checkDelivery,
  type DeliveryLog,
  eventData,
  keyOfData,
  type ReceivedEvent,
  type SendRecord,
  type SendTarget,
} from "./delivery-checker.js";

/** Builds hand-made logs: one clock for sends, connects and receipts. */
function scenario() {
  let now = 0;
  const sends: SendRecord[] = [];
  const send = (key: string, target: SendTarget = { kind: "all" }, bytes = 10) => {
    sends.push({ key, target, seq: ++now, bytes, instance: "i0" });
    return key;
  };
  const connection = (
    id: string,
    keys: readonly string[],
    options: { lastEventId?: string; opened?: boolean } = {},
  ): ConnectionRecord => {
    const requestedSeq = ++now;
    const openedSeq = options.opened === false ? undefined : ++now;
    const received: ReceivedEvent[] = keys.map((key) => ({
      type: key === "reset" ? "se-reset" : "message",
      key: key === "reset" ? undefined : key,
      id: key,
      seq: ++now,
    }));
    return {
      id,
      instance: "i0",
      lastEventId: options.lastEventId,
      lastEventIdVia: options.lastEventId === undefined ? undefined : "header",
      requestedSeq,
      openedSeq,
      received,
      failures: [],
    };
  };
  const tick = () => ++now;
  return { sends, send, connection, tick };
}

const alice = (connections: ConnectionRecord[], topics: string[] = []): ClientRecord => ({
  name: "alice",
  seid: "u-alice",
  topics,
  connections,
});

function check(log: DeliveryLog, history?: { maxEvents: number; maxBytes: number }) {
  return checkDelivery(log, history ? { history } : {}).map((difference) => difference.message);
}

describe("checkDelivery", () => {
  it("accepts every addressed event once, in order, across a reconnect with Last-Event-ID", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    for (const key of ["S1", "S2", "S3"]) s.send(key);
    s.send("S4", { kind: "topic", topic: "news" });
    s.send("S5", { kind: "topic", topic: "sports" });
    s.send("S6", { kind: "seid", seid: "u-alice" });
    s.send("S7", { kind: "seid", seid: "u-bob" });
    (first.received as ReceivedEvent[]).push({
      type: "message",
      key: "S1",
      id: "1",
      seq: s.tick(),
    });
    const second = s.connection("alice/1", ["S2", "S3", "S4", "S6"], { lastEventId: "1" });
    const log = {
      sends: s.sends,
      order: s.sends.map((e) => e.key),
      clients: [alice([first, second], ["news"])],
    };
    expect(check(log)).toEqual([]);
  });

  it("catches a lost event (no reset)", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    for (const key of ["S1", "S2", "S3"]) s.send(key);
    (first.received as ReceivedEvent[]).push({
      type: "message",
      key: "S1",
      id: "1",
      seq: s.tick(),
    });
    const second = s.connection("alice/1", ["S3"], { lastEventId: "1" });
    const log = { sends: s.sends, order: ["S1", "S2", "S3"], clients: [alice([first, second])] };
    const [difference, ...rest] = check(log);
    expect(rest).toEqual([]);
    expect(difference).toMatch(
      /alice\/1 .*event #0 of that connection: got S3 but S2 \(broadcast, from i0\) never arrived, with no reset \(loss\)/,
    );
  });

  it("catches a lost event at the end", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    for (const key of ["S1", "S2"]) s.send(key);
    (first.received as ReceivedEvent[]).push({
      type: "message",
      key: "S1",
      id: "1",
      seq: s.tick(),
    });
    expect(check({ sends: s.sends, order: ["S1", "S2"], clients: [alice([first])] })).toEqual([
      expect.stringMatching(/1 event\(s\) never arrived, from S2 \(broadcast\) on/),
    ]);
  });

  it("catches a duplicate", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    for (const key of ["S1", "S2"]) s.send(key);
    (first.received as ReceivedEvent[]).push(
      { type: "message", key: "S1", id: "1", seq: s.tick() },
      { type: "message", key: "S2", id: "2", seq: s.tick() },
    );
    const second = s.connection("alice/1", ["S2"], { lastEventId: "1" });
    expect(
      check({ sends: s.sends, order: ["S1", "S2"], clients: [alice([first, second])] }),
    ).toEqual([expect.stringMatching(/S2 a second time \(duplicate\)/)]);
  });

  it("catches a reorder", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    for (const key of ["S1", "S2", "S3"]) s.send(key);
    (first.received as ReceivedEvent[]).push(
      { type: "message", key: "S1", id: "1", seq: s.tick() },
      { type: "message", key: "S3", id: "3", seq: s.tick() },
      { type: "message", key: "S2", id: "2", seq: s.tick() },
    );
    // S3 before S2 is a loss of S2 at the time it is seen; a different global order (the
    // Redis stream's) makes the same receipt correct.
    expect(check({ sends: s.sends, order: ["S1", "S2", "S3"], clients: [alice([first])] })).toEqual(
      [expect.stringMatching(/got S3 but S2 .* \(loss\)/)],
    );
    expect(check({ sends: s.sends, order: ["S1", "S3", "S2"], clients: [alice([first])] })).toEqual(
      [],
    );
    // Two clients that disagree cannot both match one order.
    const bob: ClientRecord = {
      name: "bob",
      seid: "u-bob",
      topics: [],
      connections: [s.connection("bob/0", ["S1", "S2", "S3"])],
    };
    expect(
      check({ sends: s.sends, order: ["S1", "S3", "S2"], clients: [alice([first]), bob] }),
    ).toHaveLength(1);
  });

  it("catches an event that was not addressed to the client, or never sent", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    s.send("S1", { kind: "topic", topic: "sports" });
    (first.received as ReceivedEvent[]).push({
      type: "message",
      key: "S1",
      id: "1",
      seq: s.tick(),
    });
    expect(check({ sends: s.sends, order: ["S1"], clients: [alice([first], ["news"])] })).toEqual([
      expect.stringMatching(/S1 \(topic sports\) was not addressed to it/),
    ]);
    const other = s.connection("alice/1", ["S9"]);
    expect(check({ sends: s.sends, order: ["S1"], clients: [alice([other], ["sports"])] })).toEqual(
      [expect.stringMatching(/an event nobody sent \(type message, id S9\)/)],
    );
  });

  it("allows a deletion only right where the client got the reset", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    for (const key of ["S1", "S2", "S3", "S4"]) s.send(key);
    (first.received as ReceivedEvent[]).push({
      type: "message",
      key: "S1",
      id: "1",
      seq: s.tick(),
    });
    const order = ["S1", "S2", "S3", "S4"];
    const reset = s.connection("alice/1", ["reset", "S3", "S4"], { lastEventId: "1" });
    expect(check({ sends: s.sends, order, clients: [alice([first, reset])] })).toEqual([]);
    // A reset that came before an event the client then got does not excuse a later gap.
    const early = s.connection("alice/1", ["reset", "S2", "S4"], { lastEventId: "1" });
    expect(check({ sends: s.sends, order, clients: [alice([first, early])] })).toEqual([
      expect.stringMatching(/got S4 but S3 .* \(loss\)/),
    ]);
    // With history limits that held everything, the reset itself is a difference.
    const limits = { maxEvents: 1000, maxBytes: 1 << 20 };
    expect(check({ sends: s.sends, order, clients: [alice([first, reset])] }, limits)).toEqual([
      expect.stringMatching(/a reset, though only 3 shared events .* since its last one, S1/),
    ]);
  });

  it("owes a connection opened without Last-Event-ID only what was sent after it opened", () => {
    const s = scenario();
    s.send("S1");
    const fresh = s.connection("alice/0", []);
    s.send("S2");
    (fresh.received as ReceivedEvent[]).push({
      type: "message",
      key: "S2",
      id: "2",
      seq: s.tick(),
    });
    expect(check({ sends: s.sends, order: ["S1", "S2"], clients: [alice([fresh])] })).toEqual([]);
    // An event sent after the connection opened is owed.
    const s2 = scenario();
    const late = s2.connection("alice/0", []);
    s2.send("S1");
    s2.send("S2");
    (late.received as ReceivedEvent[]).push({
      type: "message",
      key: "S2",
      id: "2",
      seq: s2.tick(),
    });
    expect(check({ sends: s2.sends, order: ["S1", "S2"], clients: [alice([late])] })).toEqual([
      expect.stringMatching(/got S2 but S1 .* \(loss\)/),
    ]);
  });

  it("requires a reset for an addressed event that never got a place in the order", () => {
    const s = scenario();
    const first = s.connection("alice/0", []);
    s.send("S1");
    s.send("S2");
    s.send("S3");
    (first.received as ReceivedEvent[]).push(
      { type: "message", key: "S1", id: "1", seq: s.tick() },
      { type: "message", key: "S3", id: "3", seq: s.tick() },
    );
    const order = ["S1", "S3"];
    expect(check({ sends: s.sends, order, clients: [alice([first])] })).toEqual([
      expect.stringMatching(
        /S2 \(broadcast, from i0\) never got a place in the global order, and the client got no reset/,
      ),
    ]);
    (first.received as ReceivedEvent[]).push({
      type: "se-reset",
      key: undefined,
      id: "g",
      seq: s.tick(),
    });
    expect(check({ sends: s.sends, order, clients: [alice([first])] })).toEqual([]);
    // Delivering it anyway is a difference of its own.
    const got = s.connection("alice/0", ["S1", "S2", "S3"]);
    expect(check({ sends: s.sends, order, clients: [alice([got])] })[0]).toMatch(
      /S2 \(broadcast\) has no place in the global order/,
    );
  });

  it("checks per-connection events: once, on their connection, in order, none owed missing", () => {
    const s = scenario();
    const w0 = s.send("W.alice/0", { kind: "connection", connection: "alice/0" });
    const first = s.connection("alice/0", []);
    const c1 = s.send("C1", { kind: "connection", connection: "alice/0" });
    const c2 = s.send("C2", { kind: "connection", connection: "alice/0" });
    s.send("S1");
    const ok = {
      ...first,
      received: [w0, c1, c2, "S1"].map((key) => ({ type: "message", key, id: key, seq: s.tick() })),
    };
    expect(check({ sends: s.sends, order: ["S1"], clients: [alice([ok])] })).toEqual([]);
    const bad = {
      ...first,
      received: [c2, c1, c1, "S1"].map((key) => ({ type: "message", key, id: key, seq: s.tick() })),
    };
    expect(check({ sends: s.sends, order: ["S1"], clients: [alice([bad])] })).toEqual([
      expect.stringMatching(/got C1 after C2, which was sent later/),
      expect.stringMatching(/got C1 twice/),
      expect.stringMatching(/W.alice\/0 never arrived, though an event sent after it did/),
    ]);
    const elsewhere = s.connection("alice/1", [w0, "S1"], { lastEventId: "x" });
    expect(
      check({ sends: s.sends, order: ["S1"], clients: [alice([first, elsewhere])] }),
    ).toContainEqual(expect.stringMatching(/alice\/1 on i0: got W.alice\/0, sent to alice\/0/));
  });

  it("reports an event that has two places in the global order", () => {
    const s = scenario();
    s.send("S1");
    const first = s.connection("alice/0", ["S1"]);
    (first as { openedSeq: number }).openedSeq = 0;
    expect(check({ sends: s.sends, order: ["S1", "S1"], clients: [alice([first])] })).toEqual([
      "S1 has two places in the global order (ordered twice)",
    ]);
  });

  it("reports connection failures", () => {
    const s = scenario();
    const failed = {
      ...s.connection("alice/0", [], { opened: false }),
      failures: ["HTTP 500 (text/plain): boom"],
    };
    expect(check({ sends: s.sends, order: [], clients: [alice([failed])] })).toEqual([
      "alice/0 on i0: HTTP 500 (text/plain): boom",
    ]);
  });

  it("round-trips keys through event data", () => {
    expect(keyOfData(eventData("S12"))).toBe("S12");
    expect(keyOfData(eventData("W.c3/2", 5))).toBe("W.c3/2");
    expect(eventData("C1", 3)).toBe("#C1# xxx");
    expect(keyOfData("hello")).toBeUndefined();
  });
});
