/**
 * Where a `.cpuprofile` (Chrome DevTools format, from `--cpu-prof` or the storm scenario's
 * `BENCH_STORM_PROFILE`) spent its time within a window: self time per function and the
 * heaviest stacks. As a script:
 *
 *   pnpm --filter @se/bench exec tsx src/cpu-profile-summary.ts <file> [fromMs] [toMs] [bucketMs]
 *
 * prints the top functions and stacks between fromMs and toMs (from the profile's start),
 * and with bucketMs the busiest functions of each bucket (to tell the phases apart).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Hot {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Samples that were not idle, GC or the program's own frames. */
  busyMs: number;
  self: Hot[];
  stacks: Hot[];
}

const IDLE = new Set(["(idle)", "(program)"]);

function frameName(frame: CpuProfile["nodes"][number]["callFrame"]): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  const file = frame.url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "");
  return `${name} ${file.replace(/^.*\/(packages|apps)\//, "$1/")}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, total: number, count: number): Hot[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, share: total === 0 ? 0 : us / total }));
}

/** Self time and heaviest stacks (leaf first, `depth` frames) of samples in [fromMs, toMs). */
export function summarizeProfile(
  profile: CpuProfile,
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
  options: { count?: number; depth?: number } = {},
): ProfileSummary {
  const count = options.count ?? 15;
  const depth = options.depth ?? 6;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const stacks = new Map<string, number>();
  let at = 0;
  let totalUs = 0;
  let busyUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const weight = profile.timeDeltas[i] ?? 0;
    at += weight;
    if (at < fromMs * 1000 || at >= toMs * 1000) continue;
    totalUs += weight;
    const node = byId.get(profile.samples[i] as number);
    if (!node) continue;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + weight);
    if (IDLE.has(node.callFrame.functionName)) continue;
    busyUs += weight;
    const chain: string[] = [];
    for (
      let id: number | undefined = node.id;
      id !== undefined && chain.length < depth;
      id = parent.get(id)
    ) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || frame.functionName === "(root)") break;
      chain.push(frameName(frame));
    }
    const key = chain.join(" ← ");
    stacks.set(key, (stacks.get(key) ?? 0) + weight);
  }
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    self: top(self, totalUs, count),
    stacks: top(stacks, totalUs, count),
  };
}

function print(summary: ProfileSummary, title: string): void {
  console.log(
    `\n## ${title}: ${summary.totalMs.toFixed(0)} ms sampled, ${summary.busyMs.toFixed(0)} ms busy`,
  );
  console.log("self time:");
  for (const h of summary.self)
    console.log(
      `  ${h.ms.toFixed(1).padStart(8)} ms ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.name}`,
    );
  console.log("stacks (leaf ← callers):");
  for (const h of summary.stacks.slice(0, 8))
    console.log(
      `  ${h.ms.toFixed(1).padStart(8)} ms ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.name}`,
    );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, from, to, bucket] = process.argv.slice(2);
  if (!file) {
    console.error("usage: cpu-profile-summary.ts <file.cpuprofile> [fromMs] [toMs] [bucketMs]");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const fromMs = Number(from ?? 0);
  const toMs = to ? Number(to) : (profile.endTime - profile.startTime) / 1000;
  print(summarizeProfile(profile, fromMs, toMs), `${file} ${fromMs}–${toMs.toFixed(0)} ms`);
  const step = Number(bucket ?? 0);
  if (step > 0) {
    console.log("\n## busiest functions per bucket");
    for (let t = fromMs; t < toMs && t < fromMs + step * 200; t += step) {
      const s = summarizeProfile(profile, t, t + step, { count: 4 });
      const hot = s.self.filter((h) => !IDLE.has(h.name)).slice(0, 3);
      console.log(
        `  ${String(t).padStart(6)} ms  busy ${s.busyMs.toFixed(0).padStart(4)} ms  ${hot.map((h) => `${h.name} ${h.ms.toFixed(0)}`).join(" | ")}`,
      );
    }
  }
}
