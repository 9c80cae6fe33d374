/** The storm scenario's arithmetic: percentiles and one compact table of every measure. */
import { formatValue } from "./report.js";
import { type Series, summary } from "./results.js";

/** The value at quantile `q` (0..1) of `values` (nearest rank), or NaN when there is none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  ] as number;
}

/** p50, p99 and max of request times whose request was sent between `from` and `to`. */
export function latencyIn(
  samples: readonly { at: number; ms: number; ok: boolean }[],
  from: number,
  to: number,
): { p50: number; p99: number; max: number; count: number; failed: number } {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  const ms = inside.map((s) => s.ms);
  return {
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    max: ms.length === 0 ? Number.NaN : Math.max(...ms),
    count: inside.length,
    failed: inside.filter((s) => !s.ok).length,
  };
}

/**
 * One row per implementation, one column per series: `median (min–max)` over the reps, or
 * FAILED / skipped. Rows follow the first series' order.
 */
export function compactRows(all: readonly Series[]): string[][] {
  const first = all[0];
  if (!first) return [];
  const names = [
    ...Object.keys(first.values),
    ...Object.keys(first.failed),
    ...Object.keys(first.skipped),
  ].filter((name, i, list) => list.indexOf(name) === i);
  const header = [
    "implementation",
    ...all.map((s) => (s.unit ? `${s.label} (${s.unit})` : s.label)),
  ];
  const rows = [header];
  for (const name of names) {
    if (first.failed[name] !== undefined) {
      rows.push([name, `FAILED: ${first.failed[name]}`, ...all.slice(1).map(() => "")]);
      continue;
    }
    if (first.skipped[name] !== undefined) {
      rows.push([name, `skipped: ${first.skipped[name]}`, ...all.slice(1).map(() => "")]);
      continue;
    }
    const cells = all.map((s) => {
      const values = s.values[name];
      if (!values || values.length === 0) return "–";
      const { median, min, max } = summary(values);
      const m = formatValue(median, s.unit);
      return values.length === 1
        ? m
        : `${m} (${formatValue(min, s.unit)}–${formatValue(max, s.unit)})`;
    });
    rows.push([name, ...cells]);
  }
  return rows;
}
