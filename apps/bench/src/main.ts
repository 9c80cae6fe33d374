/**
 * `pnpm bench` — runs the scenarios, prints tables, writes bench-results/latest.json and one
 * SVG chart per scenario, and (with --docs) the figures into docs/benchmarks.md.
 *
 *   pnpm bench                       full run (≈ 10 min on 2 cores)
 *   pnpm bench --quick               smoke run: fewer clients and events, 1 rep (< 2 min)
 *   pnpm bench --scenarios=burst,idle --impls=raw,se-core --reps=5
 *   BENCH_QUICK=1 BENCH_SCENARIOS=encoder pnpm bench
 *   pnpm bench --docs-from=bench-results/latest.json   rewrite the docs from a saved full run
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BENCH_DIR } from "./children.js";
import { IMPLEMENTATIONS, type ImplName } from "./implementations.js";
import { checkTargets, markdownTable, printResults, seriesRows, targetRows } from "./report.js";
import type { RunResults } from "./results.js";
import { SCENARIOS } from "./scenarios.js";
import { barChart } from "./svg-chart.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OUT_DIR = `${ROOT}bench-results`;
const DOCS = `${ROOT}docs/benchmarks.md`;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: process.env.BENCH_QUICK === "1" },
    scenarios: { type: "string", default: process.env.BENCH_SCENARIOS ?? "" },
    impls: { type: "string", default: process.env.BENCH_IMPLS ?? "" },
    reps: { type: "string", default: process.env.BENCH_REPS ?? "" },
    docs: { type: "boolean", default: false },
    "docs-from": { type: "string", default: "" },
    help: { type: "boolean", default: false },
  },
  allowPositionals: false,
});

if (args.help) {
  console.log(`usage: pnpm bench [--quick] [--scenarios=${SCENARIOS.map((s) => s.id).join(",")}]
                  (${SCENARIOS.filter((s) => s.optIn)
                    .map((s) => s.id)
                    .join(", ")}: only when named)
                  [--impls=${IMPLEMENTATIONS.join(",")}] [--reps=N] [--docs]
       pnpm bench --docs-from=bench-results/latest.json   (rewrite the docs from a saved run)`);
  process.exit(0);
}

const quick = args.quick === true;
/** Quick runs keep their own files, so a smoke run never overwrites the full run's results. */
const suffix = quick ? "-quick" : "";
const reps = args.reps ? Number(args.reps) : quick ? 1 : 3;
const chosen = args.scenarios
  ? args.scenarios.split(",")
  : SCENARIOS.filter((s) => !s.optIn).map((s) => s.id);
const impls = (args.impls ? args.impls.split(",") : [...IMPLEMENTATIONS]) as ImplName[];
for (const id of chosen) if (!SCENARIOS.some((s) => s.id === id)) fail(`unknown scenario "${id}"`);
for (const impl of impls)
  if (!IMPLEMENTATIONS.includes(impl)) fail(`unknown implementation "${impl}"`);
if (!Number.isSafeInteger(reps) || reps < 1 || reps > 50)
  fail(`--reps must be 1..50, got ${args.reps}`);

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

/** Each process holds up to 5000 sockets (8000 in a storm): make sure the file-descriptor limit allows it. */
function ensureFileLimit(): void {
  const storm = chosen.some((id) => id.startsWith("storm"));
  const needed = (storm && !quick ? 8000 : quick ? 1000 : 5000) + 1024;
  const limit = (flag: string) =>
    Number(
      execFileSync("sh", ["-c", `ulimit ${flag}`])
        .toString()
        .trim(),
    );
  const soft = limit("-n");
  if (Number.isNaN(soft) || soft >= needed) return;
  const hard = execFileSync("sh", ["-c", "ulimit -Hn"]).toString().trim();
  if (process.env.BENCH_FD_RAISED === "1" || (hard !== "unlimited" && Number(hard) < needed)) {
    fail(
      `need ${needed} open files per process, \`ulimit -n\` is ${soft} (hard limit ${hard}). Raise it: ulimit -n ${needed}`,
    );
  }
  console.log(`bench: raising the open-file limit from ${soft} to ${needed}`);
  const child = spawnSync(
    "sh",
    [
      "-c",
      `ulimit -n ${needed} && exec "$@"`,
      "sh",
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: "inherit", env: { ...process.env, BENCH_FD_RAISED: "1" } },
  );
  process.exit(child.status ?? 1);
}

function version(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(`${BENCH_DIR}node_modules/${name}/package.json`, "utf8")) as {
        version: string;
      }
    ).version;
  } catch {
    return "missing";
  }
}

function machine(): RunResults["machine"] {
  const list = cpus();
  return {
    cpus: list[0]?.model ?? "unknown",
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

function writeDocs(results: RunResults): void {
  const parts: string[] = [
    `Run: ${results.startedAt}, ${results.durationS.toFixed(0)} s, \`${results.command}\`, ${results.reps} reps interleaved.`,
    `Machine: ${results.machine.cpus}, ${results.machine.cores} cores, ${results.machine.memoryGb} GB, Node ${results.machine.node}, ${results.machine.platform}.`,
    `Versions: ${Object.entries(results.versions)
      .map(([n, v]) => `${n} ${v}`)
      .join(", ")}.`,
    "",
    "### Targets",
    "",
    markdownTable(targetRows(results.targets)),
  ];
  const optIn = new Set(SCENARIOS.filter((s) => s.optIn).map((s) => s.id));
  for (const scenario of results.scenarios.filter((s) => !optIn.has(s.id))) {
    parts.push("", `### ${scenario.title}`, "");
    for (const s of scenario.series) {
      parts.push(
        `${s.label} (${s.unit ? `${s.unit}, ` : ""}${s.better} is better):`,
        "",
        markdownTable(seriesRows(s)),
        "",
      );
    }
    for (const note of scenario.notes) parts.push(`- ${note}`);
  }
  const generated = `<!-- bench:start -->\n${parts.join("\n")}\n<!-- bench:end -->`;
  const current = readFileSync(DOCS, "utf8");
  const next = current.includes("<!-- bench:start -->")
    ? current.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, generated)
    : `${current.trimEnd()}\n\n${generated}\n`;
  writeFileSync(DOCS, next);
  console.log(`bench: figures written to ${DOCS}`);
}

/** Rewrites the docs from a saved full run (same samples, targets checked again), runs nothing. */
function docsFrom(given: string): void {
  // Relative to where `pnpm bench` was typed (pnpm runs the script in apps/bench).
  const file = resolve(process.env.INIT_CWD ?? process.cwd(), given);
  let results: RunResults;
  try {
    results = JSON.parse(readFileSync(file, "utf8")) as RunResults;
  } catch (error) {
    fail(`--docs-from: cannot read ${file} (${(error as Error).message})`);
  }
  if (!Array.isArray(results.scenarios)) fail(`--docs-from: ${file} holds no scenarios`);
  if (results.quick) fail(`--docs-from: ${file} is a quick run; the docs record full runs only`);
  const missing = SCENARIOS.filter(
    (d) => !d.optIn && !results.scenarios.some((s) => s.id === d.id),
  );
  if (missing.length > 0) {
    fail(`--docs-from: ${file} is a partial run (no ${missing.map((d) => d.id).join(", ")})`);
  }
  results.targets = checkTargets(results.scenarios);
  writeDocs(results);
}

async function main(): Promise<void> {
  if (args["docs-from"]) return docsFrom(args["docs-from"]);
  ensureFileLimit();
  const started = Date.now();
  const command = `pnpm bench${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
  const log = (line: string) => console.log(line);
  log(
    `bench: ${quick ? "quick" : "full"} run, ${reps} rep(s), scenarios ${chosen.join(", ")}; implementations ${impls.join(", ")}`,
  );
  const results: RunResults = {
    startedAt: new Date(started).toISOString(),
    durationS: 0,
    command,
    machine: machine(),
    quick,
    reps,
    versions: Object.fromEntries(
      [
        "fastify",
        "fastify-sse-v2",
        "@fastify/sse",
        "better-sse",
        "@se/core",
        "@se/fastify",
        "@se/redis",
      ].map((n) => [n, version(n)]),
    ),
    scenarios: [],
    targets: [],
  };
  mkdirSync(OUT_DIR, { recursive: true });
  for (const scenario of SCENARIOS.filter((s) => chosen.includes(s.id))) {
    log(`\n▶ ${scenario.id}: ${scenario.title}`);
    const t0 = Date.now();
    const result = await scenario.run({ quick, reps, impls, log });
    log(`  done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    results.scenarios.push(result);
    const primary = result.series[0];
    if (primary && Object.keys(primary.values).length > 0) {
      writeFileSync(`${OUT_DIR}/${scenario.id}${suffix}.svg`, barChart(result.title, primary));
    }
  }
  results.targets = checkTargets(results.scenarios);
  results.durationS = (Date.now() - started) / 1000;
  printResults(results, log);
  writeFileSync(`${OUT_DIR}/latest${suffix}.json`, `${JSON.stringify(results, null, 2)}\n`);
  log(
    `\nbench: ${results.durationS.toFixed(0)} s; results in ${OUT_DIR}/latest${suffix}.json and ${OUT_DIR}/<scenario>${suffix}.svg`,
  );
  if (args.docs) writeDocs(results);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
