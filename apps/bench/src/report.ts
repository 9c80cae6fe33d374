/** Tables (stdout and Markdown) and the target checks of a run. */
import { OURS, PEERS } from "./implementations.js";
import {
  best,
  medianOf,
  type RunResults,
  type ScenarioResult,
  type Series,
  summary,
  type TargetCheck,
} from "./results.js";

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "–";
  if (unit === "events/s")
    return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : `${(value / 1e3).toFixed(0)} k`;
  if (unit === "bytes")
    return value >= 1024 ? `${(value / 1024).toFixed(2)} KiB` : `${value.toFixed(0)} B`;
  if (unit === "") return value.toFixed(0);
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

const ratio = (value: number | undefined, reference: number | undefined) =>
  value === undefined || reference === undefined || reference === 0
    ? "–"
    : `${(value / reference).toFixed(2)}×`;

/** Rows of one series: impl, median, min–max, × reference(s), × best peer. */
export function seriesRows(s: Series): string[][] {
  const peers = best(s, PEERS);
  const header = ["implementation", `median (${s.unit || "count"})`, "min–max", `× ${s.reference}`];
  if (s.secondReference) header.push(`× ${s.secondReference}`);
  header.push(peers ? `× best peer (${peers.impl})` : "× best peer");
  const rows = [header];
  const names = [
    ...Object.keys(s.values),
    ...Object.keys(s.failed),
    ...Object.keys(s.skipped),
  ].filter((name, i, all) => all.indexOf(name) === i);
  const ref = medianOf(s, s.reference);
  const second = s.secondReference ? medianOf(s, s.secondReference) : undefined;
  for (const name of names) {
    if (s.failed[name] !== undefined) {
      rows.push([
        name,
        "FAILED",
        s.failed[name] as string,
        "",
        ...(s.secondReference ? [""] : []),
        "",
      ]);
      continue;
    }
    const values = s.values[name];
    if (s.skipped[name] !== undefined || !values || values.length === 0) {
      rows.push([
        name,
        "skipped",
        s.skipped[name] ?? "",
        "",
        ...(s.secondReference ? [""] : []),
        "",
      ]);
      continue;
    }
    const { median, min, max } = summary(values);
    const row = [
      name,
      formatValue(median, s.unit),
      `${formatValue(min, s.unit)} – ${formatValue(max, s.unit)}`,
      ratio(median, ref),
    ];
    if (s.secondReference) row.push(ratio(median, second));
    row.push(ratio(median, peers?.value));
    rows.push(row);
  }
  return rows;
}

/** The width of each column: its widest cell, at least `min`. */
function columnWidths(rows: string[][], min = 0): number[] {
  return rows[0]?.map((_, c) => Math.max(min, ...rows.map((r) => (r[c] ?? "").length))) ?? [];
}

export function textTable(rows: string[][]): string {
  const widths = columnWidths(rows);
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ");
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

export function markdownTable(rows: string[][]): string {
  const escaped = rows.map((row) => row.map((cell) => cell.replace(/\|/g, "\\|")));
  const [header, ...body] = escaped;
  if (!header) return "";
  // Columns padded to their widest cell, so the table reads as text too.
  const widths = columnWidths(escaped, 3);
  const line = (row: string[]) =>
    `| ${widths.map((w, i) => (row[i] ?? "").padEnd(w)).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(header), rule, ...body.map(line)].join("\n");
}

/** The targets, checked against the medians of this run. */
export function checkTargets(scenarios: ScenarioResult[]): TargetCheck[] {
  const find = (id: string, key: string) =>
    scenarios.find((s) => s.id === id)?.series.find((s) => s.key === key);
  const checks: TargetCheck[] = [];
  const compare = (
    target: string,
    s: Series | undefined,
    impl: string,
    against: string | "best-peer",
    bound: number,
    direction: "min" | "max",
  ) => {
    if (!s) return;
    const value = medianOf(s, impl);
    const other = against === "best-peer" ? best(s, PEERS)?.value : medianOf(s, against);
    if (value === undefined || other === undefined) {
      checks.push(notMeasured(target, s, impl, value === undefined ? impl : against));
      return;
    }
    const r = value / other;
    const holds = direction === "min" ? r >= bound : r <= bound;
    const check: TargetCheck = { target, actual: `${r.toFixed(2)}×`, holds };
    const mine = s.values[impl];
    const theirs = against === "best-peer" ? undefined : s.values[against];
    if (!holds && mine && theirs) {
      const x = summary(mine);
      const y = summary(theirs);
      check.withinNoise = x.max >= y.min * bound && y.max * bound >= x.min;
    }
    checks.push(check);
  };
  for (const id of ["burst", "few"]) {
    const rate = find(id, "eventsPerSec");
    for (const impl of OURS) {
      compare(`${id}: ${impl} ≥ 1.2× raw`, rate, impl, "raw", 1.2, "min");
      compare(`${id}: ${impl} ≥ 1.3× best peer`, rate, impl, "best-peer", 1.3, "min");
    }
    compare(`${id}: se-core ≥ se-fastify`, rate, "se-core", "se-fastify", 1, "min");
  }
  const paced = find("paced", "eventsPerSec");
  for (const impl of OURS) compare(`paced: ${impl} ≥ 0.9× raw`, paced, impl, "raw", 0.9, "min");
  const heap = find("idle", "heapPerConn");
  compare(
    "idle: se-fastify heap/conn ≤ 1.3× fastify-raw",
    heap,
    "se-fastify",
    "fastify-raw",
    1.3,
    "max",
  );
  compare("idle: se-core heap/conn ≤ 1.3× raw", heap, "se-core", "raw", 1.3, "max");
  for (const impl of OURS) {
    compare(`idle: ${impl} heap/conn below every peer`, heap, impl, "best-peer", 1, "max");
  }
  compare(
    "encoder: se single-line ≤ 1.5× template",
    find("encoder", "single-line"),
    "se formatEvent",
    "template",
    1.5,
    "max",
  );
  compare(
    "encoder: se multi-line faster than every peer",
    find("encoder", "multi-line"),
    "se formatEvent",
    "best-peer",
    1,
    "max",
  );
  checkStalled(find("stalled", "retainedMb"), find("stalled", "stalledClosed"), checks);
  return checks;
}

/** A target that got no number: `impl` failed (a miss), or `missing` was skipped or did not run. */
function notMeasured(target: string, s: Series, impl: string, missing: string): TargetCheck {
  const failed = s.failed[impl];
  const actual = failed ?? s.skipped[impl] ?? `${missing} did not run`;
  return { target, actual, holds: failed !== undefined ? false : undefined };
}

/** se's memory for one stalled client with its defaults, MiB: `maxQueueBytes` + history `maxBytes`. */
const SE_STALLED_BOUND_MIB = 2;

/**
 * Stalled reader: se retains no more than its bounds (+ 25% for the objects around the queued
 * frames) and drops the client; each peer keeps about what `raw` keeps (everything the kernel
 * did not take, growing with what is sent). The series is in MiB.
 */
function checkStalled(
  retained: Series | undefined,
  closed: Series | undefined,
  checks: TargetCheck[],
): void {
  if (!retained || !closed) return;
  const limit = SE_STALLED_BOUND_MIB * 1.25;
  const absolute = (target: string, impl: string, ok: (mib: number) => boolean) => {
    const value = medianOf(retained, impl);
    checks.push(
      value === undefined
        ? notMeasured(target, retained, impl, impl)
        : { target, actual: `${value.toFixed(2)} MiB`, holds: ok(value) },
    );
  };
  for (const impl of OURS) {
    absolute(`stalled: ${impl} retains ≤ ${limit} MiB (its bounds + 25%)`, impl, (v) => v <= limit);
    const dropped = medianOf(closed, impl);
    if (dropped !== undefined) {
      checks.push({
        target: `stalled: ${impl} drops the stalled client`,
        actual: dropped === 1 ? "dropped" : "kept",
        holds: dropped === 1,
      });
    }
  }
  const unbounded = medianOf(retained, "raw");
  if (unbounded === undefined) return;
  for (const peer of PEERS) {
    if (medianOf(retained, peer) === undefined) continue;
    absolute(`stalled: ${peer} retains ≥ 0.9× raw (no bound)`, peer, (v) => v >= 0.9 * unbounded);
  }
}

export function targetRows(checks: TargetCheck[]): string[][] {
  return [
    ["target", "this run", "verdict"],
    ...checks.map((c) => [
      c.target,
      c.actual,
      c.holds === undefined
        ? "not measured"
        : c.holds
          ? "holds"
          : c.withinNoise
            ? "missed, within noise (min–max ranges overlap)"
            : "MISSED",
    ]),
  ];
}

export function printResults(results: RunResults, log: (text: string) => void): void {
  for (const scenario of results.scenarios) {
    log(`\n## ${scenario.title}`);
    for (const s of scenario.series) {
      log(`\n${s.label} (${s.better} is better)`);
      log(textTable(seriesRows(s)));
    }
    for (const note of scenario.notes) log(`note: ${note}`);
  }
  log("\n## Targets");
  log(textTable(targetRows(results.targets)));
}
