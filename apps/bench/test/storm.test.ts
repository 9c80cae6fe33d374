/** The storm scenario's pure parts: /proc parsing, CPU peaks, percentiles, tables, profiles. */
import { describe, expect, it } from "vitest";
import { type CpuProfile, summarizeProfile } from "../src/cpu-profile-summary.js";
import {
  type ProcSample,
  parseCpuTicks,
  parseNetstat,
  parseRssPages,
  peakCpuPercent,
} from "../src/proc-sampler.js";
import type { Series } from "../src/results.js";
import { parseServerArgs } from "../src/server-args.js";
import { compactRows, latencyIn, quantile } from "../src/storm-summary.js";

describe("/proc parsers", () => {
  it("reads utime + stime after a command name holding spaces and parentheses", () => {
    // Fields 14 and 15 (utime, stime) are 1200 and 34.
    const stat =
      "4242 (node (my server)) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1200 34 0 0 20 0 11 0 500 1000000 20000 18446744073709551615";
    expect(parseCpuTicks(stat)).toBe(1234);
    expect(parseRssPages("300000 25000 5000 10 0 40000 0\n")).toBe(25000);
    expect(() => parseCpuTicks("4242 (node) S")).toThrow("unreadable stat");
  });

  it("pairs each netstat header line with its value line", () => {
    const text = [
      "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans",
      "TcpExt: 0 489 490 12",
      "IpExt: InNoRoutes InOctets",
      "IpExt: 3 123456",
      "",
    ].join("\n");
    expect(parseNetstat(text)).toEqual({
      TcpExt: { SyncookiesSent: 0, ListenOverflows: 489, ListenDrops: 490, TCPSynRetrans: 12 },
      IpExt: { InNoRoutes: 3, InOctets: 123456 },
    });
  });
});

describe("peakCpuPercent", () => {
  const at = (ms: number, ticks: number): ProcSample => ({ at: ms, cpuTicks: ticks, rssBytes: 0 });

  it("finds the busiest window of at least windowMs", () => {
    // 100 Hz: idle for 500 ms, then 50 ticks (0.5 s of CPU) in 500 ms = one core, then half a core.
    const samples = [
      at(0, 0),
      at(250, 0),
      at(500, 0),
      at(750, 25),
      at(1000, 50),
      at(1250, 56),
      at(1500, 62),
    ];
    expect(peakCpuPercent(samples, 250, 100)).toBeCloseTo(100);
    expect(peakCpuPercent(samples, 500, 100)).toBeCloseTo(100);
    expect(peakCpuPercent(samples, 1000, 100)).toBeCloseTo(62);
  });

  it("reports 0 when the samples span less than one window", () => {
    expect(peakCpuPercent([at(0, 0), at(100, 50)], 250, 100)).toBe(0);
    expect(peakCpuPercent([], 250, 100)).toBe(0);
  });
});

describe("storm summary", () => {
  it("takes nearest-rank quantiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("keeps only the requests sent inside the window", () => {
    const samples = [
      { at: 90, ms: 5000, ok: true }, // before the cut: not counted
      { at: 100, ms: 2, ok: true },
      { at: 120, ms: 1500, ok: true },
      { at: 140, ms: 3, ok: false },
      { at: 500, ms: 9000, ok: true }, // after recovery: not counted
    ];
    expect(latencyIn(samples, 100, 200)).toEqual({
      p50: 3,
      p99: 1500,
      max: 1500,
      count: 3,
      failed: 1,
    });
    expect(latencyIn(samples, 300, 400).count).toBe(0);
  });

  it("puts every measure of a row in one line, failures and skips spelled out", () => {
    const make = (key: string, unit: string, values: Record<string, number[]>): Series => ({
      key,
      label: key,
      unit,
      better: "lower",
      reference: "a",
      values,
      failed: {},
      skipped: {},
    });
    const recovery = make("recovery", "ms", { a: [1500, 900, 1200], b: [300] });
    recovery.failed.c = "a client got 10 of 12 events";
    recovery.skipped.d = "no Redis";
    const overflows = make("overflows", "", { a: [0, 489, 12], b: [0] });
    expect(compactRows([recovery, overflows])).toEqual([
      ["implementation", "recovery (ms)", "overflows"],
      ["a", "1200 (900–1500)", "12 (0–489)"],
      ["b", "300", "0"],
      ["c", "FAILED: a client got 10 of 12 events", ""],
      ["d", "skipped: no Redis", ""],
    ]);
  });
});

describe("parseServerArgs", () => {
  it("reads backlog, redis and before, and refuses anything else", () => {
    expect(parseServerArgs([])).toEqual({ backlog: 8192 });
    expect(parseServerArgs(["backlog=511", "redis=p:1:", "before=/work/x"])).toEqual({
      backlog: 511,
      redis: "p:1:",
      before: "/work/x",
    });
    expect(() => parseServerArgs(["backlog=0"])).toThrow('backlog must be 1..65535, got "0"');
    expect(() => parseServerArgs(["prefix"])).toThrow('unknown server argument "prefix"');
    expect(() => parseServerArgs(["redis="])).toThrow('unknown server argument "redis="');
  });
});

describe("summarizeProfile", () => {
  // root → main → { hot (leaf), warm (leaf) }, plus (idle); 1 ms per sample.
  const frame = (functionName: string, lineNumber = 0) => ({
    functionName,
    url: functionName.startsWith("(") ? "" : "file:///work/x/packages/core/dist/index.js",
    lineNumber,
  });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 5] },
      { id: 2, callFrame: frame("main", 9), children: [3, 4] },
      { id: 3, callFrame: frame("hot", 19) },
      { id: 4, callFrame: frame("warm", 29) },
      { id: 5, callFrame: frame("(idle)") },
    ],
    startTime: 0,
    endTime: 10_000,
    // Sampled at t = 1..10 ms: hot ×5 (t = 1..5), then warm ×2, idle ×3.
    samples: [3, 3, 3, 3, 3, 4, 4, 5, 5, 5],
    timeDeltas: Array.from({ length: 10 }, () => 1000),
  };

  it("sums self time and stacks (leaf first) over the whole profile", () => {
    const summary = summarizeProfile(profile);
    expect(summary.totalMs).toBe(10);
    expect(summary.busyMs).toBe(7);
    expect(summary.self.map((h) => [h.name, h.ms])).toEqual([
      ["hot packages/core/dist/index.js:20", 5],
      ["(idle)", 3],
      ["warm packages/core/dist/index.js:30", 2],
    ]);
    expect(summary.stacks[0]).toEqual({
      name: "hot packages/core/dist/index.js:20 ← main packages/core/dist/index.js:10",
      ms: 5,
      share: 0.5,
    });
  });

  it("counts only the samples inside the window", () => {
    const late = summarizeProfile(profile, 6, 11); // samples at t = 6..10 ms
    expect(late.totalMs).toBe(5);
    expect(late.self.map((h) => [h.name, h.ms])).toEqual([
      ["(idle)", 3],
      ["warm packages/core/dist/index.js:30", 2],
    ]);
  });
});
