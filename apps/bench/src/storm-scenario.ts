/**
 * Reconnect storm: N clients on one server while an event goes out every `gapMs`; every
 * client is cut at once (by the clients: sockets destroyed; or by the server: `hub.resync()`)
 * and reconnects at once with `Last-Event-ID`. Measures the time to full recovery, the
 * server's peak CPU, RSS and heap and event-loop delay, the latency of a plain `GET /health`
 * polled by another process, and the kernel's listen-queue overflows. Every client must end
 * with every event exactly once, in order, across its reconnects; a run that loses or
 * duplicates one is FAILED.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { type Forked, forkScript, message, stop } from "./children.js";
import { call, stats } from "./control-client.js";
import type { HealthSamples } from "./health-poller.js";
import { unavailable } from "./implementations.js";
import { listenCounters, ProcSampler, peakCpuPercent } from "./proc-sampler.js";
import { deleteKeys, redisUnreachable } from "./redis-admin.js";
import { markdownTable } from "./report.js";
import type { ScenarioResult, Series } from "./results.js";
import { record, type ScenarioDef, series } from "./scenario-kit.js";
import type { LoaderCommand, Recovery } from "./storm-loader.js";
import { compactRows, latencyIn, quantile } from "./storm-summary.js";

interface StormShape {
  clients: number;
  /** Load-generator processes sharing the clients. */
  loaders: number;
  gapMs: number;
  size: number;
  /** Steady flow before the cut, and after every client recovered. */
  steadyMs: number;
  recoveryTimeoutMs: number;
}

/**
 * An event every 200 ms in full runs: at 8000 clients an event every 10 ms is 800 k socket
 * writes/s, ~10× what 2 cores deliver (the paced scenario's ≈ 84 k/s), so the server never
 * catches up, storm or not. `BENCH_STORM_GAP_MS` sets another gap.
 */
const FULL: StormShape = {
  clients: 8000,
  loaders: 2,
  gapMs: 200,
  size: 100,
  steadyMs: 2000,
  recoveryTimeoutMs: 120_000,
};
const QUICK: StormShape = {
  ...FULL,
  clients: 1000,
  loaders: 1,
  gapMs: 20,
  recoveryTimeoutMs: 60_000,
};
/** Loopback source addresses the clients connect from, round robin. */
const ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const HEALTH_EVERY_MS = 20;
const MB = 1024 * 1024;

/** A row of the tables: which server, with what arguments. */
interface StormRow {
  name: string;
  server: "se-fastify" | "se-core";
  backlog: number;
  redis?: boolean;
  before?: boolean;
}

const ROWS: StormRow[] = [
  { name: "se-fastify@before", server: "se-fastify", backlog: 511, before: true },
  { name: "se-fastify", server: "se-fastify", backlog: 511 },
  { name: "se-fastify backlog=4096", server: "se-fastify", backlog: 4096 },
  {
    name: "se-fastify+redis@before",
    server: "se-fastify",
    backlog: 511,
    redis: true,
    before: true,
  },
  { name: "se-fastify+redis", server: "se-fastify", backlog: 511, redis: true },
  { name: "se-core", server: "se-core", backlog: 511 },
];
/** Rows run unless `BENCH_STORM_ROWS` names others (se-core only on request: it runs the same core). */
const DEFAULT_ROWS = ROWS.filter((r) => r.server !== "se-core").map((r) => r.name);

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why a row cannot run here, or undefined. */
function rowUnavailable(row: StormRow, redisDown: string | undefined): string | undefined {
  const built = unavailable(row.server);
  if (built) return built;
  if (row.redis && redisDown) return `SKIPPED: ${redisDown}`;
  if (row.before) {
    const dir = process.env.BENCH_SE_BEFORE_DIR;
    if (!dir) return "set BENCH_SE_BEFORE_DIR to a built checkout of se before the change";
    for (const pkg of row.redis ? ["fastify", "redis"] : ["fastify"]) {
      if (!existsSync(`${dir}/packages/${pkg}/dist/index.js`))
        return `${dir}/packages/${pkg}/dist missing: run \`pnpm build\` there`;
    }
  }
  return undefined;
}

function serverArgs(row: StormRow, prefix: string): string[] {
  const args = [`backlog=${row.backlog}`];
  if (row.redis) args.push(`redis=${prefix}`);
  if (row.before) args.push(`before=${process.env.BENCH_SE_BEFORE_DIR}`);
  return args;
}

/** Sends a command to every loader and waits for each one's reply of `type`. */
function all<T>(loaders: Forked[], command: LoaderCommand, type: string, ms: number): Promise<T[]> {
  return Promise.all(
    loaders.map((loader, i) => {
      const reply = message<T>(loader, type, ms, `storm loader ${i}`);
      loader.child.send(command);
      return reply;
    }),
  );
}

interface StormRun {
  recovery: Recovery;
  cutAt: number;
  recoveredAt: number;
  overflows: number;
  drops: number;
  synRetransmits: number;
  health: HealthSamples;
  /** Peak CPU of the busiest load generator (is the client side the limit?). */
  loaderCpuPeak: number;
  cpuPeak: number;
  rssPeakMb: number;
  heapPeakMb: number;
  loopDelayMaxMs: number;
  sent: number;
  /** When the cut came, in ms from the start of the CPU profile (with BENCH_STORM_PROFILE). */
  profileCutMs?: number;
}

async function runOnce(
  row: StormRow,
  shape: StormShape,
  by: "client" | "server",
  prefix: string,
  profileFile: string | undefined,
): Promise<StormRun> {
  const extra = process.env.BENCH_SERVER_ARGS?.split(" ").filter(Boolean) ?? [];
  const server = forkScript(
    "./server.ts",
    [row.server, ...serverArgs(row, prefix)],
    ["--expose-gc", ...extra],
  );
  const poller = forkScript("./health-poller.ts", []);
  const loaders = Array.from({ length: shape.loaders }, () => forkScript("./storm-loader.ts", []));
  let sampler: ProcSampler | undefined;
  let loaderSamplers: ProcSampler[] = [];
  try {
    const { port } = await message<{ port: number }>(server, "ready", 30_000, `${row.name} server`);
    await message(poller, "ready", 30_000, "health poller");
    await Promise.all(loaders.map((l, i) => message(l, "ready", 30_000, `storm loader ${i}`)));
    const share = Math.ceil(shape.clients / shape.loaders);
    await Promise.all(
      loaders.map((loader, i) => {
        const clients = Math.min(share, shape.clients - i * share);
        const reply = message(loader, "connected", 300_000, `storm loader ${i}`);
        loader.child.send({ type: "connect", port, clients, addresses: ADDRESSES, batch: 200 });
        return reply;
      }),
    );
    const until = Date.now() + 30_000;
    let registered = -1;
    while (Date.now() < until && registered !== shape.clients) {
      registered = (await stats(port, false)).clients;
      if (registered !== shape.clients) await sleep(50);
    }
    if (registered !== shape.clients)
      throw new Error(`server registered ${registered} of ${shape.clients} clients`);
    const pid = server.child.pid;
    if (pid === undefined) throw new Error("the server has no pid");
    sampler = new ProcSampler(pid);
    loaderSamplers = loaders.flatMap((l) => (l.child.pid ? [new ProcSampler(l.child.pid)] : []));
    await call(port, "POST", "/peak", 10_000);
    await call(port, "POST", `/ticker?gap=${shape.gapMs}&s=${shape.size}`, 10_000);
    const started = message(poller, "started", 10_000, "health poller");
    poller.child.send({ type: "start", port, everyMs: HEALTH_EVERY_MS });
    await started;
    await sleep(shape.steadyMs);

    const profile = profileFile
      ? await call<{ startedAt: number }>(port, "POST", "/profile", 10_000)
      : undefined;
    const before = listenCounters();
    const cutAt = now();
    await all(loaders, { type: "cut", at: cutAt, by }, "cut", 30_000);
    if (by === "server") await call(port, "POST", "/resync", shape.recoveryTimeoutMs);
    const recoveries = await all<{ recovery: Recovery }>(
      loaders,
      { type: "recovered", timeoutMs: shape.recoveryTimeoutMs },
      "recovered",
      shape.recoveryTimeoutMs + 30_000,
    );
    const after = listenCounters();
    const recovery: Recovery = {
      reconnectMs: recoveries.flatMap((r) => r.recovery.reconnectMs),
      recoveredMs: recoveries.flatMap((r) => r.recovery.recoveredMs),
      attempts: recoveries.reduce((n, r) => n + r.recovery.attempts, 0),
      failedAttempts: recoveries.reduce((n, r) => n + r.recovery.failedAttempts, 0),
      missing: recoveries.reduce((n, r) => n + r.recovery.missing, 0),
    };
    const recoveredAt = cutAt + Math.max(0, ...recovery.recoveredMs);
    if (profileFile)
      await call(port, "POST", `/profile?file=${encodeURIComponent(profileFile)}`, 60_000);
    const peaks = await stats(port, false, 60_000);
    await sleep(shape.steadyMs);
    const stopped = await call<{ sent: number; error?: string }>(
      port,
      "POST",
      "/ticker?stop=1",
      60_000,
    );
    const health = message<{ samples: HealthSamples }>(poller, "stopped", 60_000, "health poller");
    poller.child.send({ type: "stop" });
    const { samples } = await health;
    sampler.stop();
    for (const s of loaderSamplers) s.stop();
    if (stopped.error) throw new Error(`the ticker stopped: ${stopped.error}`);
    if (recovery.missing > 0)
      throw new Error(
        `${recovery.missing} clients did not recover within ${shape.recoveryTimeoutMs} ms`,
      );
    const verified = await all<{ problems: string[] }>(
      loaders,
      { type: "verify", total: stopped.sent, timeoutMs: 60_000 },
      "verified",
      120_000,
    );
    const problems = verified.flatMap((v) => v.problems);
    if (problems.length > 0) throw new Error([...new Set(problems)].slice(0, 3).join("; "));
    const window = sampler.between(cutAt - 100, recoveredAt + 100);
    return {
      recovery,
      cutAt,
      recoveredAt,
      overflows: after.overflows - before.overflows,
      drops: after.drops - before.drops,
      synRetransmits: after.synRetransmits - before.synRetransmits,
      loaderCpuPeak: Math.max(
        0,
        ...loaderSamplers.map((s) =>
          peakCpuPercent(s.between(cutAt - 100, recoveredAt + 100), 250, s.hz),
        ),
      ),
      health: samples,
      cpuPeak: peakCpuPercent(window, 250, sampler.hz),
      rssPeakMb: Math.max(peaks.peakRss, ...window.map((s) => s.rssBytes)) / MB,
      heapPeakMb: peaks.peakHeapUsed / MB,
      loopDelayMaxMs: peaks.loopDelayMaxMs,
      sent: stopped.sent,
      ...(profile ? { profileCutMs: cutAt - profile.startedAt } : {}),
    };
  } finally {
    sampler?.stop();
    for (const s of loaderSamplers) s.stop();
    await Promise.all([server, poller, ...loaders].map(stop));
  }
}

function storm(by: "client" | "server"): ScenarioDef {
  const id = by === "client" ? "storm" : "storm-resync";
  const how =
    by === "client"
      ? "every client's socket destroyed at once by the clients"
      : "every stream ended at once by the server (`hub.resync()`)";
  return {
    id,
    title: `Reconnect storm: ${how}`,
    async run(options) {
      const gap = Number(process.env.BENCH_STORM_GAP_MS ?? "");
      const base = options.quick ? QUICK : FULL;
      const shape = Number.isSafeInteger(gap) && gap >= 1 ? { ...base, gapMs: gap } : base;
      const ref = "se-fastify@before";
      const s = (key: string, label: string, unit: string) =>
        series(key, label, unit, "lower", ref);
      const recovered = s("recoveryMs", "full recovery (last client)", "ms");
      const recoveredP50 = s("recoveryP50Ms", "recovery p50", "ms");
      const reconnected = s("reconnectMs", "last client reconnected", "ms");
      const healthP50 = s("healthP50", "/health p50 (kept-alive)", "ms");
      const healthP99 = s("healthP99", "/health p99 (kept-alive)", "ms");
      const healthMax = s("healthMax", "/health max (kept-alive)", "ms");
      const freshP99 = s("freshP99", "/health p99 (new connection)", "ms");
      const freshMax = s("freshMax", "/health max (new connection)", "ms");
      const loop = s("loopDelayMax", "event-loop delay max", "ms");
      const cpu = s("cpuPeak", "peak CPU (250-ms window)", "% of a core");
      const rss = s("rssPeak", "peak RSS", "MiB");
      const heap = s("heapPeak", "peak heap used", "MiB");
      const overflow = s("listenOverflows", "listen-queue overflows", "");
      const retries = s("failedReconnects", "failed reconnect attempts", "");
      const measures: Series[] = [
        recovered,
        recoveredP50,
        reconnected,
        healthP50,
        healthP99,
        healthMax,
        freshP99,
        freshMax,
        loop,
        cpu,
        rss,
        heap,
        overflow,
        retries,
      ];
      const wanted = process.env.BENCH_STORM_ROWS?.split(",").filter(Boolean) ?? DEFAULT_ROWS;
      for (const name of wanted)
        if (!ROWS.some((r) => r.name === name)) throw new Error(`unknown storm row "${name}"`);
      const rows = ROWS.filter((r) => wanted.includes(r.name) && options.impls.includes(r.server));
      const redisDown = rows.some((r) => r.redis) ? await redisUnreachable() : undefined;
      const runnable = rows.filter((row) => {
        const reason = rowUnavailable(row, redisDown);
        if (reason) for (const m of measures) m.skipped[row.name] = reason;
        return reason === undefined;
      });
      const profileDir = process.env.BENCH_STORM_PROFILE;
      if (profileDir) mkdirSync(profileDir, { recursive: true });
      const run = `se-bench-storm-${process.pid}-${randomBytes(4).toString("hex")}-`;
      const timeline: Record<string, unknown>[] = [];
      try {
        for (let rep = 0; rep < options.reps; rep++) {
          for (const row of runnable) {
            if (recovered.failed[row.name] !== undefined) continue;
            const t0 = Date.now();
            const label = `${id} rep ${rep + 1}/${options.reps} ${row.name}`;
            const profileFile =
              profileDir && rep === 0
                ? `${profileDir}/${id}-${row.name.replace(/[^\w@+.-]+/g, "_")}.cpuprofile`
                : undefined;
            try {
              const r = await runOnce(row, shape, by, `${run}${rep}:`, profileFile);
              record(recovered, row.name, r.recoveredAt - r.cutAt);
              record(recoveredP50, row.name, quantile(r.recovery.recoveredMs, 0.5));
              record(reconnected, row.name, Math.max(0, ...r.recovery.reconnectMs));
              const kept = latencyIn(r.health.keepAlive, r.cutAt, r.recoveredAt);
              const fresh = latencyIn(r.health.fresh, r.cutAt, r.recoveredAt);
              record(healthP50, row.name, kept.p50);
              record(healthP99, row.name, kept.p99);
              record(healthMax, row.name, kept.max);
              record(freshP99, row.name, fresh.p99);
              record(freshMax, row.name, fresh.max);
              record(loop, row.name, r.loopDelayMaxMs);
              record(cpu, row.name, r.cpuPeak);
              record(rss, row.name, r.rssPeakMb);
              record(heap, row.name, r.heapPeakMb);
              record(overflow, row.name, r.overflows);
              record(retries, row.name, r.recovery.failedAttempts);
              timeline.push({
                row: row.name,
                rep,
                sent: r.sent,
                recoveryMs: r.recoveredAt - r.cutAt,
                reconnectMs: [0.1, 0.5, 0.9, 0.99, 1].map((q) =>
                  Math.round(quantile(r.recovery.reconnectMs, q)),
                ),
                listenDrops: r.drops,
                synRetransmits: r.synRetransmits,
                loaderCpuPeak: Math.round(r.loaderCpuPeak),
                loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
                healthSamples: kept.count,
                healthFailed: kept.failed + fresh.failed,
                ...(profileFile ? { profile: profileFile, profileCutMs: r.profileCutMs } : {}),
              });
              options.log(
                `  ${label}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s; recovery ${(r.recoveredAt - r.cutAt).toFixed(0)} ms, /health max ${kept.max.toFixed(0)} ms, ${r.overflows} overflows, ${r.synRetransmits} SYN retransmits, loader CPU peak ${r.loaderCpuPeak.toFixed(0)}%, ${r.sent} events)\n    ${JSON.stringify(timeline.at(-1))}`,
              );
            } catch (error) {
              const reason = (error as Error).message.split("\n")[0] ?? "failed";
              for (const m of measures) m.failed[row.name] = reason;
              options.log(`  ${label}: FAILED — ${reason}`);
            }
          }
        }
      } finally {
        if (runnable.some((r) => r.redis)) {
          const deleted = await deleteKeys(run).catch(() => 0);
          options.log(`  storm: deleted ${deleted} Redis key(s) under ${run}*`);
        }
      }
      options.log(`\n${markdownTable(compactRows(measures))}`);
      const result: ScenarioResult = {
        id,
        title: `Reconnect storm (${how}): ${shape.clients} clients, an event every ${shape.gapMs} ms`,
        params: {
          ...shape,
          addresses: ADDRESSES.length,
          healthEveryMs: HEALTH_EVERY_MS,
          by,
          runs: timeline,
        },
        series: measures,
        notes: [
          `Recovery: from the cut to the moment every client has received an event sent after its new stream opened; the sequence numbers are checked to continue across the reconnect, so from then on the client holds every event sent, once each. After recovery the flow goes on for ${shape.steadyMs} ms, then stops, and every client must hold every event sent exactly once, in order.`,
          "/health: polled every 20 ms from another process on one kept-alive connection and, separately, on a new connection per request; figures over the requests sent between the cut and full recovery.",
          "CPU and RSS are sampled from /proc every 50 ms (CPU as the busiest 250-ms window); heap by the server every 50 ms; event-loop delay by monitorEventLoopDelay. Listen-queue overflows: the kernel's TcpExt ListenOverflows, counted between the cut and recovery.",
        ],
      };
      return result;
    },
  };
}

export const stormScenarios: ScenarioDef[] = [storm("client"), storm("server")];
