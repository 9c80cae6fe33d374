import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { SeOptionError } from "./errors.js";
import { type HistoryEntry, MemoryReplayHistory, type ReplaySlice } from "./replay-history.js";

const all = { kind: "all" } as const;
let nextPosition = 10_000_000;
const entry = (id: string, time = 0, frame = `id: ${id}\ndata: x\n\n`): HistoryEntry => ({
  id,
  position: String(nextPosition++),
  target: all,
  frame,
  time,
});
const ids = (slice: ReplaySlice | undefined) => slice?.entries.map((e) => e.id);

describe("MemoryReplayHistory", () => {
  it("returns what followed an id, oldest first; undefined for an unknown id", () => {
    const history = new MemoryReplayHistory({ now: () => 0 });
    for (const id of ["1", "2", "3", "4"]) history.append(entry(id));
    expect(ids(history.since("1"))).toEqual(["2", "3", "4"]);
    expect(ids(history.since("3"))).toEqual(["4"]);
    expect(ids(history.since("4"))).toEqual([]);
    expect(history.since("nope")).toBeUndefined();
  });

  it("bounds by count", () => {
    const history = new MemoryReplayHistory({ maxEvents: 3, now: () => 0 });
    for (let i = 1; i <= 5; i++) history.append(entry(String(i)));
    expect(history.size).toBe(3);
    expect(history.since("2")).toBeUndefined();
    expect(ids(history.since("3"))).toEqual(["4", "5"]);
  });

  it("bounds by UTF-8 bytes", () => {
    const history = new MemoryReplayHistory({ maxBytes: 30, now: () => 0 });
    history.append(entry("a", 0, "data: 0123456789\n\n")); // 18 bytes
    history.append(entry("b", 0, "data: éé\n\n")); // 12 bytes
    expect(history.bytes).toBe(30);
    expect(history.size).toBe(2);
    history.append(entry("c", 0, "data: €\n\n")); // 11 bytes
    expect(history.bytes).toBe(23);
    expect(history.since("a")).toBeUndefined();
    expect(ids(history.since("b"))).toEqual(["c"]);
  });

  it("bounds by age, with an injected clock", () => {
    let now = 1_000;
    const history = new MemoryReplayHistory({ maxAgeMs: 100, now: () => now });
    history.append(entry("old", 1_000));
    now = 1_050;
    history.append(entry("mid", 1_050));
    history.append(entry("new", 1_050));
    expect(ids(history.since("old"))).toEqual(["mid", "new"]);
    now = 1_101;
    expect(history.since("old")).toBeUndefined();
    expect(ids(history.since("mid"))).toEqual(["new"]);
    expect(history.size).toBe(2);
    now = 1_200;
    expect(history.size).toBe(2); // eviction runs on access
    expect(history.since("mid")).toBeUndefined();
    // The newest id is still known: a client that holds it missed nothing.
    expect(ids(history.since("new"))).toEqual([]);
    expect(history.size).toBe(0);
  });

  it("uses the latest position of an id given twice", () => {
    const history = new MemoryReplayHistory({ now: () => 0 });
    for (const id of ["x", "1", "x", "2"]) history.append(entry(id));
    expect(ids(history.since("x"))).toEqual(["2"]);
  });

  it("stays correct across many appends (compaction)", () => {
    const history = new MemoryReplayHistory({ maxEvents: 10, now: () => 0 });
    for (let i = 0; i < 5_000; i++) history.append(entry(String(i)));
    expect(history.size).toBe(10);
    expect(ids(history.since("4995"))).toEqual(["4996", "4997", "4998", "4999"]);
    expect(history.since("4989")).toBeUndefined();
  });

  it("lets an evicted entry be collected at once, not at the next compaction", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const history = new MemoryReplayHistory({ maxEvents: 2, now: () => 0 });
    // Made in a helper so that only the history and the WeakRef point at the first entry.
    const appendFirst = () => {
      const first = entry("first");
      history.append(first);
      return new WeakRef(first);
    };
    const firstRef = appendFirst();
    for (let i = 0; i < 10; i++) history.append(entry(String(i))); // far below a compaction
    expect(history.since("first")).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRef targets live to the job's end
    gc();
    expect(firstRef.deref(), "the evicted entry is still referenced").toBeUndefined();
    expect(ids(history.since("8"))).toEqual(["9"]);
  });

  it("rejects invalid limits", () => {
    expect(() => new MemoryReplayHistory({ maxEvents: -1 })).toThrow(SeOptionError);
    expect(() => new MemoryReplayHistory({ maxBytes: Number.NaN })).toThrow(/maxBytes/);
  });
});

describe("MemoryReplayHistory positions and markers", () => {
  const at = (position: string, id: string | undefined, gap = false): HistoryEntry => ({
    id,
    position,
    target: all,
    frame: id === undefined ? "" : `id: ${id}\ndata: x\n\n`,
    time: 0,
    ...(gap ? { gap: true } : {}),
  });

  it("resolves a caller's id and a position to the same place, and skips markers", () => {
    const history = new MemoryReplayHistory({ now: () => 0 });
    history.append(at("100", undefined)); // the hub's origin marker
    history.append(at("101", "caller-a"));
    history.append(at("102", "102"));
    history.append(at("103", undefined, true)); // a gap: kept, so the replay resets there
    expect(history.since("100")?.position).toBe("100");
    expect(history.since("100")?.entries.map((e) => e.position)).toEqual(["101", "102", "103"]);
    expect(history.since("caller-a")?.position).toBe("101");
    expect(history.since("101")?.entries.map((e) => e.id)).toEqual(["102", undefined]);
    expect(history.since("104")).toBeUndefined();
  });

  it("forgets a position once its entry is evicted", () => {
    const history = new MemoryReplayHistory({ maxEvents: 2, now: () => 0 });
    history.append(at("1", undefined));
    history.append(at("2", "a"));
    history.append(at("3", "b"));
    expect(history.since("1")).toBeUndefined();
    expect(history.since("a")?.entries.map((e) => e.id)).toEqual(["b"]);
  });
});
