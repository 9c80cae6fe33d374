import { afterEach, describe, expect, it } from "vitest";
import { readStream, type StreamReader, until } from "../test/helpers.js";
import type { Backplane, BackplaneReceiver } from "./backplane.js";
import type { CloseReason, Connection } from "./connection.js";
import { ConnectionLimitError, SeError, SeOptionError, SseFormatError } from "./errors.js";
import { EventHub, type EventHubOptions } from "./event-hub.js";
import {
  type HistoryEntry,
  MemoryReplayHistory,
  type ReplayHistory,
  type ReplaySlice,
} from "./replay-history.js";

const hubs: EventHub[] = [];
const readers: StreamReader[] = [];
afterEach(async () => {
  for (const reader of readers.splice(0)) await reader.cancel();
  for (const hub of hubs.splice(0)) await hub.close();
});

function makeHub(options: EventHubOptions = {}): EventHub {
  const hub = new EventHub({ retry: false, heartbeatMs: false, ...options });
  hubs.push(hub);
  return hub;
}

function open(hub: EventHub, options: Parameters<typeof readStream>[1] = {}): StreamReader {
  const reader = readStream(hub, options);
  readers.push(reader);
  return reader;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("EventHub registry", () => {
  it("sends to every connection of a seid and to no other", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const tab1 = open(hub, { seid: "alice" });
    const tab2 = open(hub, { seid: "alice" });
    const bob = open(hub, { seid: "bob" });
    expect(hub.connectionsOf("alice").size).toBe(2);
    const delivery = hub.send("alice", { event: "note", data: "for alice" });
    expect(delivery).toEqual({ id: undefined, local: 2, published: false });
    hub.send("bob", { data: "for bob" });
    await until(() => tab1.events.length === 1 && tab2.events.length === 1, "alice's tabs got it");
    await until(() => bob.events.length === 1, "bob got his");
    expect(tab1.text).toBe("event: note\ndata: for alice\n\n");
    expect(tab2.text).toBe("event: note\ndata: for alice\n\n");
    expect(bob.text).toBe("data: for bob\n\n");
    expect(hub.send("nobody", { data: "x" }).local).toBe(0);
  });

  it("broadcast formats once: every client gets identical bytes", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const clients = [open(hub), open(hub), open(hub, { seid: "s" })];
    const delivery = hub.broadcast({ id: "42", event: "tick", data: { n: 1, s: "a\nb" } });
    expect(delivery.local).toBe(3);
    expect(delivery.id).toBe("42");
    const expected = 'event: tick\nid: 42\ndata: {"n":1,"s":"a\\nb"}\n\n';
    await until(() => clients.every((c) => c.events.length === 1), "all got the broadcast");
    for (const client of clients) expect(client.text).toBe(expected);
  });

  it("topic broadcast reaches subscribers only", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const sports = open(hub, { topics: ["sports"] });
    const late = open(hub);
    late.connection.subscribe("sports");
    late.connection.subscribe("sports");
    const other = open(hub, { topics: ["news"] });
    expect(hub.broadcast({ data: "goal" }, { topic: "sports" }).local).toBe(2);
    hub.broadcast({ data: "headline" }, { topic: "news" });
    late.connection.unsubscribe("sports");
    expect(hub.broadcast({ data: "second goal" }, { topic: "sports" }).local).toBe(1);
    expect(hub.broadcast({ data: "x" }, { topic: "empty" }).local).toBe(0);
    await until(() => sports.events.length === 2 && other.events.length === 1, "topic events");
    expect(sports.text).toBe("data: goal\n\ndata: second goal\n\n");
    expect(late.text).toBe("data: goal\n\n");
    expect(other.text).toBe("data: headline\n\n");
    expect([...sports.connection.topics]).toEqual(["sports"]);
    expect(hub.stats().topics).toBe(2);
  });

  it("gives distinct UUID seids by default", () => {
    const hub = makeHub();
    const seids = new Set<string>();
    for (let i = 0; i < 20; i++) seids.add(open(hub).connection.seid);
    expect(seids.size).toBe(20);
    for (const seid of seids) expect(seid).toMatch(UUID);
  });

  it("uses a custom seidGenerator when no seid is given", () => {
    let n = 0;
    const hub = makeHub({ seidGenerator: () => `user-${++n}` });
    expect(open(hub).connection.seid).toBe("user-1");
    expect(open(hub, { seid: "given" }).connection.seid).toBe("given");
    expect(open(hub).connection.seid).toBe("user-2");
  });

  it("emits connect and disconnect, and forgets a cancelled stream", async () => {
    const hub = makeHub();
    const seen: string[] = [];
    hub.on("connect", (c) => seen.push(`connect ${c.seid}`));
    const off = hub.on("disconnect", (c, reason) => seen.push(`disconnect ${c.seid} ${reason}`));
    const a = open(hub, { seid: "a" });
    const b = open(hub, { seid: "b" });
    expect(hub.size).toBe(2);
    await a.cancel();
    b.connection.close();
    await b.ended;
    expect(seen).toEqual([
      "connect a",
      "connect b",
      "disconnect a client-gone",
      "disconnect b ended",
    ]);
    expect(hub.size).toBe(0);
    expect(hub.clients.size).toBe(0);
    off();
    open(hub, { seid: "c" }).connection.close();
    expect(seen).toHaveLength(5);
  });

  it("clients is a live, read-only view", async () => {
    const hub = makeHub();
    const view = hub.clients;
    expect(view.size).toBe(0);
    const a1 = open(hub, { seid: "a" });
    const a2 = open(hub, { seid: "a" });
    open(hub, { seid: "b" });
    expect(view).toBe(hub.clients);
    expect(view.size).toBe(2);
    expect([...view.keys()].sort()).toEqual(["a", "b"]);
    expect(view.get("a")).toEqual(new Set([a1.connection, a2.connection]));
    expect(view.has("b")).toBe(true);
    const seen: string[] = [];
    view.forEach((connections, seid, map) => {
      expect(map).toBe(view);
      seen.push(`${seid}:${connections.size}`);
    });
    expect(seen.sort()).toEqual(["a:2", "b:1"]);
    expect([...view].map(([seid]) => seid).sort()).toEqual(["a", "b"]);
    for (const method of ["set", "delete", "clear"]) {
      expect((view as unknown as Record<string, unknown>)[method]).toBeUndefined();
    }
    await a1.cancel();
    expect(view.get("a")?.size).toBe(1);
    await a2.cancel();
    expect(view.has("a")).toBe(false);
    expect(view.size).toBe(1);
  });

  it("rejects invalid seids and topics with SeOptionError, registering nothing", () => {
    const hub = makeHub();
    const cases: Array<() => unknown> = [
      () => open(hub, { seid: "" }),
      () => open(hub, { seid: 5 as unknown as string }),
      () => open(hub, { topics: ["ok", ""] }),
      () => hub.send("", { data: "x" }),
      () => hub.broadcast({ data: "x" }, { topic: "" }),
      () => open(hub).connection.subscribe(null as unknown as string),
    ];
    for (const run of cases) {
      let error: unknown;
      try {
        run();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SeOptionError);
      expect((error as SeOptionError).code).toBe("SE_ERR_INVALID_OPTION");
      expect((error as SeOptionError).message).toMatch(/"(seid|topic)"/);
    }
    expect(hub.size).toBe(1); // only the connection of the last case
    expect(hub.stats()).toMatchObject({ connections: 1, clients: 1, topics: 0 });
  });

  it("rejects invalid hub options", () => {
    expect(() => new EventHub({ retry: -1 })).toThrow(SeOptionError);
    expect(() => new EventHub({ resetEvent: "a\nb" })).toThrow(/resetEvent/);
    expect(() => new EventHub({ heartbeatMs: 0 })).toThrow(/heartbeatMs/);
    expect(() => new EventHub({ maxQueueBytes: -5 })).toThrow(/maxQueueBytes/);
    expect(() => new EventHub({ slowClientPolicy: "wait" as unknown as "disconnect" })).toThrow(
      /slowClientPolicy/,
    );
  });

  it("counts in stats()", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const a = open(hub, { seid: "a", topics: ["t"] });
    open(hub, { seid: "a" });
    open(hub, { seid: "b" });
    hub.broadcast({ data: "all" });
    hub.send("a", { data: "a" });
    hub.broadcast({ data: "t" }, { topic: "t" });
    a.connection.send({ data: "only a" });
    expect(hub.stats()).toEqual({
      eventsSent: 3 + 2 + 1 + 1,
      bytesQueued: 0,
      eventsDropped: 0,
      slowClientsDisconnected: 0,
      replayedEvents: 0,
      resets: 0,
      resyncs: 0,
      refused: 0,
      connections: 3,
      clients: 2,
      topics: 1,
    });
  });

  it("close({ event }) sends a last event, ends every stream and refuses more", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const a = open(hub);
    const b = open(hub, { topics: ["t"] });
    hub.broadcast({ data: "before" });
    await hub.close({ event: { event: "bye", data: "server restarting" } });
    await Promise.all([a.ended, b.ended]);
    const expected = "data: before\n\nevent: bye\ndata: server restarting\n\n";
    expect(a.text).toBe(expected);
    expect(b.text).toBe(expected);
    expect(a.connection.closeReason).toBe("hub-closed");
    expect(hub.closed).toBe(true);
    expect(hub.stats()).toMatchObject({ connections: 0, clients: 0, topics: 0 });
    expect(() => hub.broadcast({ data: "x" })).toThrow(SeError);
    expect(() => open(hub)).toThrow(/hub is closed/);
    await hub.close();
  });

  it("a bad send throws, writes nothing, and the stream stays intact", async () => {
    const hub = makeHub({ autoGenerateId: false });
    const reader = open(hub, { seid: "s" });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad = [
      () => hub.send("s", { id: "1\nevent: evil", data: "x" }),
      () => hub.broadcast({ event: "a\r", data: "x" }),
      () => hub.broadcast({ data: circular }),
      () => hub.broadcast({ data: "x", retry: -1 }),
      () => reader.connection.send({ comment: "a\nb" }),
      () => hub.broadcast(null as unknown as { data: string }),
    ];
    for (const run of bad) expect(run).toThrow(SseFormatError);
    hub.send("s", { id: "2", data: "good\nmulti" });
    await until(() => reader.events.length === 1, "the good event");
    expect(reader.text).toBe("id: 2\ndata: good\ndata: multi\n\n");
    expect(reader.events).toEqual([{ id: "2", event: undefined, data: "good\nmulti" }]);
    expect(hub.stats().eventsSent).toBe(1);
  });

  it("advertises retry to each client as it connects, exactly with retryJitter 0", async () => {
    const hub = makeHub({ retry: 1234, retryJitter: 0, autoGenerateId: false });
    const reader = open(hub);
    hub.broadcast({ data: "x" });
    await until(() => reader.events.length === 1, "event");
    expect(reader.text).toBe("retry: 1234\n\ndata: x\n\n");
  });

  it("jitters retry per client by default: retry to 1.5 × retry, spread", async () => {
    const hub = makeHub({ retry: 1000, autoGenerateId: false });
    const readers = Array.from({ length: 200 }, () => open(hub));
    hub.broadcast({ data: "x" });
    await until(() => readers.every((reader) => reader.events.length === 1), "events");
    const retries = readers.map((reader) => {
      const match = /^retry: (\d+)\n\ndata: x\n\n$/.exec(reader.text);
      expect(match, reader.text).not.toBeNull();
      return Number(match?.[1]);
    });
    for (const retry of retries) {
      expect(retry).toBeGreaterThanOrEqual(1000);
      expect(retry).toBeLessThanOrEqual(1500);
    }
    // Spread over the range: each fifth of it gets some (chance of a miss: < 1e-18).
    const fifths = new Set(retries.map((retry) => Math.min(4, Math.floor((retry - 1000) / 100))));
    expect(fifths.size).toBe(5);
  });

  it("rejects an invalid retryJitter, drainMs or graceMs, naming it", () => {
    for (const option of ["retryJitter", "drainMs", "graceMs"] as const) {
      for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY, "1" as unknown as number]) {
        expect(() => new EventHub({ [option]: value })).toThrow(
          expect.objectContaining({ name: "SeOptionError", option }),
        );
      }
    }
  });
});

describe("EventHub replay", () => {
  it("ids are unique and increasing within a hub, and hubs share no id state", () => {
    for (let h = 0; h < 3; h++) {
      const hub = makeHub();
      const ids: bigint[] = [];
      for (let i = 0; i < 2_000; i++) ids.push(BigInt(hub.broadcast({ data: "x" }).id as string));
      for (let i = 1; i < ids.length; i++)
        expect(ids[i] as bigint).toBeGreaterThan(ids[i - 1] as bigint);
    }
  });

  it("replays exactly the missed events addressed to the client, in order, before live ones", async () => {
    const hub = makeHub();
    const first = open(hub, { seid: "me", topics: ["mine"] });
    const other = open(hub, { seid: "other", topics: ["theirs"] });
    const seen = hub.broadcast({ data: "seen" }).id as string;
    await until(() => first.events.length === 1, "first event");
    await first.cancel();
    hub.broadcast({ data: "b1" });
    hub.send("me", { data: "to me" });
    hub.send("other", { data: "to other" });
    hub.broadcast({ data: "my topic" }, { topic: "mine" });
    hub.broadcast({ data: "their topic" }, { topic: "theirs" });
    other.connection.send({ data: "other's connection only" });
    hub.broadcast({ event: "named", data: "b2" });
    const back = open(hub, { seid: "me", topics: ["mine"], lastEventId: seen });
    hub.broadcast({ data: "live" });
    await until(() => back.events.map((e) => e.data).includes("live"), "live event");
    expect(back.events.map((e) => e.data)).toEqual(["b1", "to me", "my topic", "b2", "live"]);
    expect(back.events[3]?.event).toBe("named");
    const ids = back.events.map((e) => BigInt(e.id as string));
    for (let i = 1; i < ids.length; i++)
      expect(ids[i] as bigint).toBeGreaterThan(ids[i - 1] as bigint);
    expect(hub.stats().replayedEvents).toBe(4);
  });

  it("sends one reset event for an unknown or too old id", async () => {
    const hub = makeHub({ history: { maxEvents: 2 } });
    const old = hub.broadcast({ data: "1" }).id as string;
    hub.broadcast({ data: "2" });
    hub.broadcast({ data: "3" });
    for (const lastEventId of [old, "never-sent"]) {
      const reader = open(hub, { lastEventId });
      await until(() => reader.events.length === 1, "reset");
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(reader.events).toHaveLength(1);
      expect(reader.events[0]?.event).toBe("se-reset");
      expect(JSON.parse(reader.events[0]?.data as string)).toEqual({
        reason: "history-gap",
        lastEventId,
      });
    }
    expect(hub.stats().resets).toBe(2);
  });

  it("uses a configured reset event name", async () => {
    const hub = makeHub({ resetEvent: "reload" });
    const reader = open(hub, { lastEventId: "unknown" });
    await until(() => reader.events.length === 1, "reset");
    expect(reader.events[0]?.event).toBe("reload");
  });

  it('onStaleLastEventId: "ignore" sends nothing; a function is called with the connection', async () => {
    const ignoring = makeHub({ onStaleLastEventId: "ignore", autoGenerateId: false });
    const quiet = open(ignoring, { lastEventId: "unknown" });
    ignoring.broadcast({ data: "live" });
    await until(() => quiet.events.length === 1, "live");
    expect(quiet.text).toBe("data: live\n\n");
    const called: Connection[] = [];
    const custom = makeHub({
      onStaleLastEventId: (connection) => {
        called.push(connection);
        connection.send({ event: "custom-reset", data: "" });
      },
      autoGenerateId: false,
    });
    const reader = open(custom, { lastEventId: "unknown" });
    expect(called).toEqual([reader.connection]);
    await until(() => reader.events.length === 1, "custom reset");
    expect(reader.text).toBe("event: custom-reset\ndata: \n\n");
    expect(custom.stats().resets).toBe(0);
  });

  it("an async history holds live events and releases them after the replay, without duplicates", async () => {
    const entries: HistoryEntry[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const history: ReplayHistory = {
      append: (entry) => entries.push(entry),
      since: async (lastEventId) => {
        await gate;
        return sliceAfter(entries, lastEventId);
      },
    };
    const hub = makeHub({ history });
    const seen = hub.broadcast({ data: "seen" }).id as string;
    hub.broadcast({ data: "missed 1" });
    hub.broadcast({ data: "missed 2" });
    const reader = open(hub, { lastEventId: seen });
    hub.broadcast({ data: "live 1" }); // also in the history when since() resolves
    hub.send(reader.connection.seid, { data: "live 2" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reader.events).toEqual([]);
    release();
    await until(() => reader.events.length >= 4, "replay and live");
    hub.broadcast({ data: "live 3" });
    await until(() => reader.events.length >= 5, "live 3");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reader.events.map((e) => e.data)).toEqual([
      "missed 1",
      "missed 2",
      "live 1",
      "live 2",
      "live 3",
    ]);
  });

  it("an async history that answers from an earlier snapshot: replay first, then held live events", async () => {
    const entries: HistoryEntry[] = [];
    const history: ReplayHistory = {
      append: (entry) => entries.push(entry),
      since: (lastEventId) => {
        const snapshot = sliceAfter(entries, lastEventId);
        return new Promise((resolve) => setTimeout(() => resolve(snapshot), 10));
      },
    };
    const hub = makeHub({ history });
    const seen = hub.broadcast({ data: "seen" }).id as string;
    hub.broadcast({ data: "missed" });
    const reader = open(hub, { lastEventId: seen });
    hub.broadcast({ data: "live 1" });
    hub.broadcast({ data: "live 2" });
    await until(() => reader.events.length === 3, "replay and live");
    expect(reader.events.map((e) => e.data)).toEqual(["missed", "live 1", "live 2"]);
  });

  it("an async history that fails: the client is told to reset, then gets live events; the error is reported", async () => {
    const errors: unknown[] = [];
    const failure = new Error("store down");
    const hub = makeHub({
      autoGenerateId: false,
      history: { append: () => {}, since: () => Promise.reject(failure) },
    });
    hub.on("error", (error) => errors.push(error));
    const reader = open(hub, { lastEventId: "5" });
    hub.broadcast({ data: "live" });
    await until(() => reader.events.length === 2, "reset and live after failure");
    expect(reader.text).toBe(
      'event: se-reset\ndata: {"reason":"history-unavailable","lastEventId":"5"}\n\ndata: live\n\n',
    );
    expect(errors).toEqual([failure]);
    expect(hub.stats().resets).toBe(1);
  });

  it("an async reset comes before live events held during the lookup", async () => {
    const hub = makeHub({
      history: {
        append: () => {},
        since: () => new Promise((r) => setTimeout(() => r(undefined), 10)),
      },
    });
    const reader = open(hub, { lastEventId: "gone" });
    hub.broadcast({ data: "live" });
    await until(() => reader.events.length === 2, "reset and live");
    expect(reader.events.map((e) => e.event ?? e.data)).toEqual(["se-reset", "live"]);
  });
});

describe("EventHub resync", () => {
  it("ends every local stream after what is queued, and stays usable", async () => {
    const hub = makeHub({ retry: 50 });
    const reasons: CloseReason[] = [];
    hub.on("disconnect", (_connection, reason) => reasons.push(reason));
    const a = open(hub, { seid: "a", topics: ["t"] });
    const b = open(hub, { seid: "b" });
    const sent = hub.broadcast({ data: "before" });
    // Same task: "before" is still pending when the streams are ended; it goes out first.
    hub.resync();
    await Promise.all([a.ended, b.ended]);
    for (const reader of [a, b]) {
      expect(reader.retries).toHaveLength(1);
      expect(reader.retries[0]).toBeGreaterThanOrEqual(50);
      expect(reader.retries[0]).toBeLessThanOrEqual(75);
      expect(reader.events.map((event) => [event.data, event.id])).toEqual([["before", sent.id]]);
      expect(reader.connection.closed).toBe(true);
      expect(reader.connection.closeReason).toBe("resync");
    }
    expect(reasons).toEqual(["resync", "resync"]);
    expect(hub.closed).toBe(false);
    expect(hub.stats()).toMatchObject({ resyncs: 2, connections: 0, clients: 0, topics: 0 });

    // New connections work at once, and replay what the ended ones missed.
    const missed = hub.broadcast({ data: "missed" });
    const again = open(hub, { seid: "a", lastEventId: sent.id ?? null, topics: ["t"] });
    hub.broadcast({ data: "live" }, { topic: "t" });
    await until(() => again.events.length === 2, "replay and live after resync");
    expect(again.events.map((event) => [event.data, event.id])).toEqual([
      ["missed", missed.id],
      ["live", expect.any(String)],
    ]);
    expect(hub.stats()).toMatchObject({ resyncs: 2, connections: 1, replayedEvents: 1 });

    // Nothing to end: a no-op.
    await again.cancel();
    hub.resync();
    expect(hub.stats().resyncs).toBe(2);
  });

  it("is what a backplane's receiver.resync() calls, and does nothing once the hub is closed", async () => {
    let receiver: BackplaneReceiver | undefined;
    const backplane: Backplane = {
      start: (given) => {
        receiver = given;
      },
      publish: () => {},
      close: () => {},
    };
    const hub = makeHub({ backplane });
    const reader = open(hub, { seid: "a" });
    expect(receiver?.resync).toBeTypeOf("function");
    receiver?.resync?.();
    await reader.ended;
    expect(reader.connection.closeReason).toBe("resync");
    expect(hub.stats().resyncs).toBe(1);

    const later = open(hub, { seid: "a" });
    await hub.close();
    await later.ended;
    receiver?.resync?.();
    expect(later.connection.closeReason).toBe("hub-closed");
    expect(hub.stats().resyncs).toBe(1);
  });
});

/** A hand-written history's answer: what followed `key` (an id or a position) in `entries`. */
function sliceAfter(entries: readonly HistoryEntry[], key: string): ReplaySlice | undefined {
  const at = entries.findIndex((e) => e.id === key || e.position === key);
  if (at === -1) return undefined;
  const position = (entries[at] as HistoryEntry).position;
  return { position, entries: entries.slice(at + 1).filter((e) => e.id !== undefined) };
}

describe("EventHub replay from a slow async history", () => {
  it("holds live events within maxQueueBytes while the history answers, then reads the rest again: each once, in order", async () => {
    const memory = new MemoryReplayHistory();
    let slow = true;
    const history: ReplayHistory = {
      append: (entry) => memory.append(entry),
      // The first answer is late (live events pile up meanwhile); later ones come at once.
      since: (key) => {
        const answer = memory.since(key);
        if (!slow) return Promise.resolve(answer);
        slow = false;
        return new Promise((resolve) => setTimeout(() => resolve(answer), 100));
      },
    };
    const maxQueueBytes = 64 * 1024;
    const hub = makeHub({ history, maxQueueBytes });
    const seen = hub.broadcast({ data: "seen" }).id as string;
    for (let i = 0; i < 10; i++) hub.broadcast({ data: `missed ${i}` });
    const reader = open(hub, { lastEventId: seen });
    const payload = "x".repeat(1024);
    let maxHeld = 0;
    for (let i = 0; i < 300; i++) {
      hub.broadcast({ data: `live ${i} ${payload}` });
      maxHeld = Math.max(maxHeld, reader.connection.held?.bytes ?? 0);
    }
    expect(reader.connection.replaying).toBe(true);
    await until(() => reader.events.length === 310, "every missed and live event", 10_000);
    expect(maxHeld).toBeLessThanOrEqual(maxQueueBytes);
    expect(reader.events.map((e) => e.data.split(" ").slice(0, 2).join(" "))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `missed ${i}`),
      ...Array.from({ length: 300 }, (_, i) => `live ${i}`),
    ]);
    expect(reader.connection.replaying).toBe(false);
  });
});

describe("EventHub contains a failing sink", () => {
  it("a sink that throws ends its own connection only; the others of the batch still get every event", async () => {
    const errors: unknown[] = [];
    const hub = makeHub();
    hub.on("error", (error) => errors.push(error));
    const before = open(hub);
    const broken = hub.connect({
      write: () => {
        throw new Error("sink exploded");
      },
      end: () => {},
      destroy: () => {},
      bind: () => {},
    });
    const after = open(hub);
    hub.broadcast({ data: "one" });
    hub.broadcast({ data: "two" });
    await until(() => before.events.length === 2 && after.events.length === 2, "both healthy");
    expect(broken.closed).toBe(true);
    expect(broken.closeReason).toBe("error");
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe("sink exploded");
    hub.broadcast({ data: "three" });
    await until(() => before.events.length === 3 && after.events.length === 3, "still healthy");
    expect(hub.size).toBe(2);
  });
});

describe("EventHub caps", () => {
  it("refuses a connect past maxConnectionsPerSeid or maxConnections with a typed error, before anything opens", () => {
    const hub = makeHub({ maxConnectionsPerSeid: 1, maxConnections: 2 });
    open(hub, { seid: "a" });
    expect(() => hub.checkConnect({ seid: "a" })).toThrowError(
      expect.objectContaining({ code: "SE_ERR_CONNECTION_LIMIT", limit: "seid", status: 429 }),
    );
    open(hub, { seid: "b" });
    let refused: unknown;
    try {
      open(hub, { seid: "c" });
    } catch (error) {
      refused = error;
    }
    expect(ConnectionLimitError.isInstance(refused)).toBe(true);
    expect(refused).toMatchObject({ limit: "instance", status: 503 });
    expect((refused as ConnectionLimitError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(hub.size).toBe(2);
    expect(hub.stats().refused).toBe(2);
  });
});
