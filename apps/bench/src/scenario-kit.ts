/**
 * What the scenarios share: their options, result series, and running a load job against a
 * fresh server, interleaved rep by rep (A B C A B C …).
 */
import { forkScript, message, stop } from "./children.js";
import { type ImplName, type ServerName, unavailable } from "./implementations.js";
import type { LoadJob, LoadResult, RoundResult } from "./loadgen.js";
import type { ScenarioResult, Series } from "./results.js";

export interface RunOptions {
  quick: boolean;
  reps: number;
  impls: readonly ImplName[];
  log: (line: string) => void;
}

export interface ScenarioDef {
  id: string;
  title: string;
  /** Run only when named in `--scenarios` (long, or needing more of the machine); not in the docs' figures. */
  optIn?: boolean;
  run(options: RunOptions): Promise<ScenarioResult>;
}

export function series(
  key: string,
  label: string,
  unit: string,
  better: Series["better"],
  reference = "raw",
): Series {
  return { key, label, unit, better, reference, values: {}, failed: {}, skipped: {} };
}

export function record(target: Series, impl: string, value: number): void {
  const values = target.values[impl] ?? [];
  values.push(value);
  target.values[impl] = values;
}

/** A server process to start: an implementation and its arguments. */
export interface ServerSpec {
  impl: ServerName;
  args?: string[];
}

/** Runs one load job against a fresh server of `impl`; both processes are stopped afterwards. */
export function withServer(
  impl: ServerName,
  job: Omit<LoadJob, "port">,
  budgetMs: number,
): Promise<LoadResult> {
  return withServers([{ impl }], job, budgetMs);
}

/**
 * Runs one load job against fresh servers: the clients connect to the last one, broadcasts
 * go to the first. Every process is stopped afterwards.
 */
export async function withServers(
  specs: readonly ServerSpec[],
  job: Omit<LoadJob, "port" | "controlPort">,
  budgetMs: number,
): Promise<LoadResult> {
  const extra = process.env.BENCH_SERVER_ARGS?.split(" ").filter(Boolean) ?? [];
  const servers = specs.map((spec) =>
    forkScript("./server.ts", [spec.impl, ...(spec.args ?? [])], ["--expose-gc", ...extra]),
  );
  const load = forkScript("./loadgen.ts", []);
  try {
    const ports: number[] = [];
    for (const [i, server] of servers.entries()) {
      const what = `${specs[i]?.impl} server`;
      ports.push((await message<{ port: number }>(server, "ready", 30_000, what)).port);
    }
    await message(load, "ready", 30_000, "load generator");
    load.child.send({ ...job, port: ports.at(-1), controlPort: ports[0] });
    const { result } = await message<{ result: LoadResult }>(
      load,
      "result",
      budgetMs,
      "load generator",
    );
    return result;
  } finally {
    await Promise.all([stop(load), ...servers.map(stop)]);
  }
}

export function describeFailure(round: RoundResult | undefined, fallback: string): string {
  if (!round) return fallback;
  return [...new Set(round.problems)].slice(0, 3).join("; ");
}

/**
 * Every (rep, impl) pair, interleaved; `each` records values, a thrown error marks the impl
 * FAILED. `names` defaults to the implementations chosen for the run.
 */
export async function interleave<Name extends ServerName>(
  options: RunOptions,
  all: Series[],
  label: string,
  each: (impl: Name, rep: number) => Promise<void>,
  names: readonly Name[] = options.impls as readonly Name[],
): Promise<void> {
  const runnable = names.filter((impl) => {
    const reason = unavailable(impl);
    if (reason) for (const s of all) s.skipped[impl] = reason;
    return reason === undefined;
  });
  for (let rep = 0; rep < options.reps; rep++) {
    for (const impl of runnable) {
      if (all[0]?.failed[impl] !== undefined) continue;
      const t0 = Date.now();
      try {
        await each(impl, rep);
        options.log(
          `  ${label} rep ${rep + 1}/${options.reps} ${impl}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
        );
      } catch (error) {
        const reason = (error as Error).message.split("\n")[0] ?? "failed";
        for (const s of all) s.failed[impl] = reason;
        options.log(`  ${label} rep ${rep + 1}/${options.reps} ${impl}: FAILED — ${reason}`);
      }
    }
  }
}
