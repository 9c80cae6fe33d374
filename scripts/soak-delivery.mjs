// Soaks the delivery contract (issue 12): runs the seeded model tests
// (packages/fastify/test/delivery-model.test.ts in memory, packages/redis/test/delivery-model.test.ts
// on three instances over Redis) for many seeds, a batch of seeds per vitest run, within a time
// budget. Prints one line per seed and, for each failure, its first difference and how to rerun it.
// Exits 1 when a seed failed (or none ran).
//
// Usage: pnpm soak [--seeds 20] [--from <seed>] [--steps 1000] [--backend both|memory|redis]
//                  [--batch 5] [--minutes 15]
// --from defaults to a random seed (printed), so every soak explores new runs. The Redis runs
// need a Redis at REDIS_URL (default 127.0.0.1:6379); they use their own key prefix and delete it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const BACKENDS = {
  memory: { filter: "@se/fastify", file: "test/delivery-model.test.ts" },
  redis: { filter: "@se/redis", file: "test/delivery-model.test.ts" },
};

function options(argv) {
  const values = {
    seeds: 20,
    from: undefined,
    steps: 1000,
    backend: "both",
    batch: 5,
    minutes: 15,
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if (name === "help" || name === "h") {
      console.log(readFileSync(new URL(import.meta.url), "utf8").split("\nimport")[0]);
      process.exit(0);
    }
    if (!(name in values) || value === undefined)
      throw new Error(`soak: unknown or incomplete option ${argv[i]}`);
    values[name] = name === "backend" ? value : Number(value);
    i++;
  }
  for (const name of ["seeds", "steps", "batch", "minutes"]) {
    if (!Number.isSafeInteger(values[name]) || values[name] < 1)
      throw new Error(`soak: --${name} must be a positive integer`);
  }
  if (values.seeds > 10_000) throw new Error("soak: at most 10000 seeds per soak");
  values.from ??= Math.floor(Math.random() * 2 ** 31);
  if (!Number.isSafeInteger(values.from) || values.from < 0)
    throw new Error("soak: --from must be a non-negative integer");
  if (!["both", "memory", "redis"].includes(values.backend))
    throw new Error("soak: --backend is both, memory or redis");
  return values;
}

/** Runs one vitest batch; resolves with its JSON report (or undefined when it produced none). */
function runBatch(backend, seeds, steps, deadline) {
  const { filter, file } = BACKENDS[backend];
  const dir = mkdtempSync(join(tmpdir(), "se-soak-"));
  const report = join(dir, "report.json");
  const child = spawn(
    "pnpm",
    [
      "--filter",
      filter,
      "exec",
      "vitest",
      "run",
      file,
      "--reporter=dot",
      "--reporter=json",
      `--outputFile.json=${report}`,
    ],
    {
      cwd: root,
      detached: true,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        NO_COLOR: "1",
        SE_MODEL_SEED: seeds.join(","),
        SE_MODEL_STEPS: String(steps),
        ...(backend === "redis" ? { SE_REQUIRE_REDIS: "1" } : {}),
      },
    },
  );
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => {
        console.log(`  (time budget reached: stopping the ${backend} batch)`);
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {}
      },
      Math.max(0, deadline - Date.now()),
    );
    child.on("exit", () => {
      clearTimeout(timer);
      let parsed;
      try {
        parsed = JSON.parse(readFileSync(report, "utf8"));
      } catch {}
      rmSync(dir, { recursive: true, force: true });
      resolve(parsed);
    });
  });
}

let settings;
try {
  settings = options(process.argv.slice(2));
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
const deadline = Date.now() + settings.minutes * 60_000;
const backends = settings.backend === "both" ? ["memory", "redis"] : [settings.backend];
console.log(
  `soak: seeds ${settings.from}..${settings.from + settings.seeds - 1}, ${settings.steps} steps, ${backends.join(" + ")}, at most ${settings.minutes} min`,
);
const failures = [];
let passed = 0;
for (let start = 0; start < settings.seeds && Date.now() < deadline; start += settings.batch) {
  const seeds = [];
  for (let n = start; n < Math.min(settings.seeds, start + settings.batch); n++)
    seeds.push(settings.from + n);
  for (const backend of backends) {
    if (Date.now() >= deadline) break;
    const report = await runBatch(backend, seeds, settings.steps, deadline);
    const results = (report?.testResults ?? []).flatMap((file) => file.assertionResults ?? []);
    if (results.length === 0) {
      failures.push({
        backend,
        seed: seeds.join(","),
        first: "the batch produced no results (see its output above)",
      });
      console.log(`${backend} seeds ${seeds.join(",")}: NO RESULTS`);
      continue;
    }
    for (const result of results) {
      const seed = /seed (\d+)/.exec(result.title)?.[1] ?? result.title;
      if (result.status === "passed") {
        passed++;
        console.log(`${backend} seed ${seed}: ok`);
      } else if (result.status === "failed") {
        const text = (result.failureMessages ?? []).join("\n");
        const first = /First difference: (.*)/.exec(text)?.[1] ?? text.split("\n")[0];
        failures.push({ backend, seed, first });
        console.log(`${backend} seed ${seed}: FAIL ${first}`);
      } else {
        console.log(`${backend} seed ${seed}: ${result.status}`);
      }
    }
  }
}
console.log(`\nsoak: ${passed} passed, ${failures.length} failed`);
for (const { backend, seed, first } of failures) {
  const { filter, file } = BACKENDS[backend];
  console.log(`- ${backend} seed ${seed}: ${first}`);
  console.log(
    `  rerun: SE_MODEL_SEED=${seed} SE_MODEL_STEPS=${settings.steps} pnpm --filter ${filter} exec vitest run ${file}`,
  );
}
process.exit(failures.length > 0 || passed === 0 ? 1 : 0);
