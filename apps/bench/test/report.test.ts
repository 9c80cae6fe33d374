/** The target verdicts of a run, on hand-made results (no servers are started). */
import { describe, expect, it } from "vitest";
import { checkTargets, markdownTable } from "../src/report.js";
import type { Better, ScenarioResult, Series } from "../src/results.js";

function makeSeries(key: string, better: Better, values: Record<string, number[]>): Series {
  return { key, label: key, unit: "", better, reference: "raw", values, failed: {}, skipped: {} };
}

function stalled(retained: Record<string, number[]>, dropped: Record<string, number[]>) {
  return {
    id: "stalled",
    title: "stalled",
    params: { totalMb: 50 },
    series: [
      makeSeries("retainedMb", "lower", retained),
      makeSeries("stalledClosed", "lower", dropped),
    ],
    notes: [],
  } satisfies ScenarioResult;
}

function verdicts(scenarios: ScenarioResult[]): Record<string, boolean | undefined> {
  return Object.fromEntries(checkTargets(scenarios).map((check) => [check.target, check.holds]));
}

describe("checkTargets", () => {
  it("holds se's stalled-client memory to its bounds and checks that it drops the client", () => {
    const within = verdicts([
      stalled(
        { raw: [47.2], "se-core": [2.36, 2.35, 2.36], "better-sse": [47.5] },
        { raw: [0], "se-core": [1, 1, 1], "better-sse": [0] },
      ),
    ]);
    expect(within["stalled: se-core retains ≤ 2.5 MiB (its bounds + 25%)"]).toBe(true);
    expect(within["stalled: se-core drops the stalled client"]).toBe(true);
    expect(within["stalled: better-sse retains ≥ 0.9× raw (no bound)"]).toBe(true);

    const over = verdicts([
      stalled(
        { raw: [47.2], "se-core": [3.1], "better-sse": [12] },
        { raw: [0], "se-core": [0], "better-sse": [0] },
      ),
    ]);
    expect(over["stalled: se-core retains ≤ 2.5 MiB (its bounds + 25%)"]).toBe(false);
    expect(over["stalled: se-core drops the stalled client"]).toBe(false);
    expect(over["stalled: better-sse retains ≥ 0.9× raw (no bound)"]).toBe(false);
  });

  it("reports a failed implementation as a miss, not as a number", () => {
    const scenario = stalled({ "se-core": [2] }, { "se-core": [1] });
    const retained = scenario.series[0] as Series;
    retained.failed["se-core"] = "client 3 missed event 17";
    const check = checkTargets([scenario]).find((c) => c.target.startsWith("stalled: se-core"));
    expect(check).toMatchObject({ actual: "client 3 missed event 17", holds: false });
  });

  it("compares idle heap and the multi-line encoder with the best peer", () => {
    const idle: ScenarioResult = {
      id: "idle",
      title: "idle",
      params: {},
      series: [
        makeSeries("heapPerConn", "lower", {
          raw: [4.6],
          "fastify-raw": [4.6],
          "se-core": [5.4],
          "se-fastify": [6.5],
          "@fastify/sse": [6.2],
          "better-sse": [13.1],
        }),
      ],
      notes: [],
    };
    const encoder: ScenarioResult = {
      id: "encoder",
      title: "encoder",
      params: {},
      series: [
        makeSeries("multi-line", "lower", {
          "template+split": [286],
          "se formatEvent": [302],
          "fastify-sse-v2": [363],
          "better-sse": [544],
        }),
      ],
      notes: [],
    };
    const result = verdicts([idle, encoder]);
    expect(result["idle: se-core heap/conn below every peer"]).toBe(true);
    expect(result["idle: se-fastify heap/conn below every peer"]).toBe(false);
    expect(result["encoder: se multi-line faster than every peer"]).toBe(true);
  });
});

describe("markdownTable", () => {
  it("pads every column to its widest cell and escapes pipes", () => {
    const table = markdownTable([
      ["name", "value"],
      ["a|b", "1"],
      ["longer name", "22"],
    ]);
    const lines = table.split("\n");
    expect(lines[0]).toBe("| name        | value |");
    expect(lines[1]).toBe("| ----------- | ----- |");
    expect(lines[2]).toBe("| a\\|b        | 1     |");
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });
});
