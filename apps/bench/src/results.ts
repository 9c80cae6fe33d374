/** The shape of a run's results (also the JSON file), and the statistics over reps. */

export type Better = "higher" | "lower";

export interface Series {
  key: string;
  label: string;
  unit: string;
  better: Better;
  /** The baseline of the "× ref" column (`raw`, or the bare template for the encoder). */
  reference: string;
  /** Another baseline shown beside it (e.g. `fastify-raw` for idle memory). */
  secondReference?: string;
  /** Rows in table order: implementation → one value per rep. */
  values: Record<string, number[]>;
  /** Implementations whose run failed (lost, duplicated or late events), with why. */
  failed: Record<string, string>;
  skipped: Record<string, string>;
}

export interface ScenarioResult {
  id: string;
  title: string;
  params: Record<string, unknown>;
  series: Series[];
  notes: string[];
}

export interface TargetCheck {
  target: string;
  actual: string;
  holds: boolean | undefined;
  /** A miss where the two min–max ranges overlap: the difference is within run-to-run noise. */
  withinNoise?: boolean;
}

export interface RunResults {
  startedAt: string;
  durationS: number;
  command: string;
  machine: { cpus: string; cores: number; memoryGb: number; node: string; platform: string };
  quick: boolean;
  reps: number;
  versions: Record<string, string>;
  scenarios: ScenarioResult[];
  targets: TargetCheck[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summary(values: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** The median of `impl` in a series, or undefined when it failed or did not run. */
export function medianOf(series: Series, impl: string): number | undefined {
  const values = series.values[impl];
  if (!values || values.length === 0 || series.failed[impl] !== undefined) return undefined;
  return median(values);
}

/** The best median among `impls` (by the series' direction), with its name. */
export function best(
  series: Series,
  impls: readonly string[],
): { impl: string; value: number } | undefined {
  let found: { impl: string; value: number } | undefined;
  for (const impl of impls) {
    const value = medianOf(series, impl);
    if (value === undefined) continue;
    const better =
      series.better === "higher"
        ? value > (found?.value ?? -Infinity)
        : value < (found?.value ?? Infinity);
    if (better) found = { impl, value };
  }
  return found;
}
