/**
 * The scenarios. Each forks a fresh server per (implementation, rep), interleaved rep by rep
 * (A B C A B C …), and a separate load-generator process that verifies delivery.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { forkScript, message, stop } from "./children.js";
import type { EncoderJob, EncoderResult } from "./encoder-bench.js";
import { type ImplName, unavailable } from "./implementations.js";
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
  run(options: RunOptions): Promise<ScenarioResult>;
}

const MB = 1024 * 1024;

function series(
  key: string,
  label: string,
  unit: string,
  better: Series["better"],
  reference = "raw",
): Series {
  return { key, label, unit, better, reference, values: {}, failed: {}, skipped: {} };
}

function record(target: Series, impl: string, value: number): void {
  const values = target.values[impl] ?? [];
  values.push(value);
  target.values[impl] = values;
}

/** Runs one load job against a fresh server of `impl`; both processes are stopped afterwards. */
async function withServer(
  impl: ImplName,
  job: Omit<LoadJob, "port">,
  budgetMs: number,
): Promise<LoadResult> {
  const extra = process.env.BENCH_SERVER_ARGS?.split(" ").filter(Boolean) ?? [];
  const server = forkScript("./server.ts", [impl], ["--expose-gc", ...extra]);
  const load = forkScript("./loadgen.ts", []);
  try {
    const { port } = await message<{ port: number }>(server, "ready", 30_000, `${impl} server`);
    await message(load, "ready", 30_000, "load generator");
    load.child.send({ ...job, port });
    const { result } = await message<{ result: LoadResult }>(
      load,
      "result",
      budgetMs,
      "load generator",
    );
    return result;
  } finally {
    await Promise.all([stop(load), stop(server)]);
  }
}

function describeFailure(round: RoundResult | undefined, fallback: string): string {
  if (!round) return fallback;
  return [...new Set(round.problems)].slice(0, 3).join("; ");
}

/** Every (rep, impl) pair, interleaved; `each` records values, a thrown error marks the impl FAILED. */
async function interleave(
  options: RunOptions,
  all: Series[],
  label: string,
  each: (impl: ImplName, rep: number) => Promise<void>,
): Promise<void> {
  const runnable = options.impls.filter((impl) => {
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

interface ThroughputShape {
  clients: number;
  events: number;
  size: number;
  mode: "burst" | "paced";
}

function throughput(
  id: string,
  title: string,
  full: ThroughputShape,
  quick: ThroughputShape,
): ScenarioDef {
  return {
    id,
    title,
    async run(options) {
      const shape = options.quick ? quick : full;
      const rate = series("eventsPerSec", "events delivered per second", "events/s", "higher");
      const cpu = series("serverCpuMs", "server CPU time for the round", "ms", "lower");
      const clientCpu = series(
        "clientCpuMs",
        "load-generator CPU time for the round (diagnostic)",
        "ms",
        "lower",
      );
      const warmup = Math.max(10, Math.round(shape.events / 10));
      const job: Omit<LoadJob, "port"> = {
        clients: shape.clients,
        stalled: 0,
        batch: 100,
        timeoutMs: 120_000,
        idleMemory: false,
        peak: false,
        rounds: [
          { m: warmup, s: shape.size, mode: shape.mode, warmup: true },
          { m: shape.events, s: shape.size, mode: shape.mode },
        ],
      };
      await interleave(options, [rate, cpu, clientCpu], id, async (impl) => {
        const result = await withServer(impl, job, 300_000);
        const measured = result.rounds.find((r) => !r.warmup);
        const bad = result.rounds.find((r) => !r.ok);
        if (bad || !measured) throw new Error(describeFailure(bad, "no measured round"));
        record(rate, impl, measured.eventsPerSec);
        record(cpu, impl, measured.serverCpuMs);
        record(clientCpu, impl, measured.clientCpuMs);
      });
      return {
        id,
        title: `${title}: ${shape.clients} clients × ${shape.events} events × ${shape.size} B`,
        params: { ...shape, warmupEvents: warmup },
        series: [rate, cpu, clientCpu],
        notes: [
          "Time from the broadcast request to the last event at the last client; every client must get every event once, in order.",
        ],
      };
    },
  };
}

const idle: ScenarioDef = {
  id: "idle",
  title: "Idle memory per connection",
  async run(options) {
    const clients = options.quick ? 1000 : 5000;
    const heap = series("heapPerConn", "heap used per idle connection, after GC", "bytes", "lower");
    heap.secondReference = "fastify-raw";
    const rss = series("rssPerConn", "RSS per idle connection, after GC", "bytes", "lower");
    rss.secondReference = "fastify-raw";
    const job: Omit<LoadJob, "port"> = {
      clients,
      stalled: 0,
      batch: 250,
      timeoutMs: 60_000,
      idleMemory: true,
      peak: false,
      rounds: [],
    };
    await interleave(options, [heap, rss], "idle", async (impl) => {
      const result = await withServer(impl, job, 180_000);
      const { idleBefore: before, idleAfter: after } = result;
      if (!before || !after) throw new Error("no memory figures");
      record(heap, impl, (after.heapUsed - before.heapUsed) / clients);
      record(rss, impl, (after.rss - before.rss) / clients);
    });
    return {
      id: "idle",
      title: "Idle memory per connection",
      params: { clients },
      series: [heap, rss],
      notes: [
        "(after − before) / clients, both after two full GCs (--expose-gc); before = listening, no client.",
        "se keeps its defaults: replay history, heartbeat timer and registry enabled.",
      ],
    };
  },
};

const stalled: ScenarioDef = {
  id: "stalled",
  title: "Stalled reader: memory while one client stops reading",
  async run(options) {
    const total = options.quick ? 10 * MB : 50 * MB;
    const size = 16 * 1024;
    const events = total / size;
    const readers = 4;
    const peak = series("peakGrowthMb", "peak RSS growth during the broadcast", "MB", "lower");
    const retained = series(
      "retainedMb",
      "heap + external retained after the broadcast, after GC",
      "MB",
      "lower",
    );
    const closed = series(
      "stalledClosed",
      "stalled client dropped by the server (1 = yes)",
      "",
      "lower",
    );
    const job: Omit<LoadJob, "port"> = {
      clients: readers,
      stalled: 1,
      batch: 10,
      timeoutMs: 120_000,
      idleMemory: false,
      peak: true,
      rounds: [{ m: events, s: size, mode: "timed" }],
    };
    await interleave(options, [retained, peak, closed], "stalled", async (impl) => {
      const result = await withServer(impl, job, 300_000);
      const round = result.rounds[0];
      if (!round?.ok || !round.before || !round.after)
        throw new Error(describeFailure(round, "no round"));
      record(peak, impl, (round.after.peakRss - round.before.rss) / MB);
      const mem = (s: { heapUsed: number; external: number }) => s.heapUsed + s.external;
      record(retained, impl, (mem(round.after) - mem(round.before)) / MB);
      record(closed, impl, round.stalledClosed ?? 0);
    });
    return {
      id: "stalled",
      title: "Stalled reader: memory while one client stops reading",
      params: {
        totalMb: total / MB,
        eventBytes: size,
        events,
        readers,
        stalledClients: 1,
        pacing: "one event per timer tick (setTimeout 0, ≈ 1 ms)",
      },
      series: [retained, peak, closed],
      notes: [
        "One client stops reading after the head; the others must still get every event. Events are paced one per timer tick (≈ 16 MB/s) so healthy readers keep up. Peak RSS includes the payloads' garbage, so it is similar for all; memory retained after GC is what the stalled client costs. se bounds a slow client by maxQueueBytes (default 1 MiB, policy disconnect); the kernel's socket buffers hold a few MB before any library sees backpressure.",
      ],
    };
  },
};

const encoder: ScenarioDef = {
  id: "encoder",
  title: "Encoder: ns per event",
  async run(options) {
    const job: EncoderJob = {
      reps: Math.max(options.reps, 5),
      iterations: options.quick ? 200_000 : 1_000_000,
    };
    const forked = forkScript("./encoder-bench.ts", []);
    let result: EncoderResult;
    try {
      await message(forked, "ready", 30_000, "encoder bench");
      forked.child.send(job);
      result = (
        await message<{ result: EncoderResult }>(forked, "result", 300_000, "encoder bench")
      ).result;
    } finally {
      await stop(forked);
    }
    const all: Series[] = [];
    for (const [shape, samples] of Object.entries(result)) {
      const s = series(
        shape,
        `${shape} data, 100 bytes`,
        "ns/event",
        "lower",
        shape === "single-line" ? "template" : "template+split",
      );
      s.values = samples;
      s.skipped["@fastify/sse"] = "its formatter is private (not exported)";
      all.push(s);
    }
    return {
      id: "encoder",
      title: "Encoder: ns per event",
      params: { ...job },
      series: all,
      notes: [
        "template = `data: ` + data + `\\n\\n` as one template literal; template+split = the same with a CR/LF/CRLF replace. better-sse JSON-encodes strings (its default serializer), so multi-line data becomes one line.",
      ],
    };
  },
};

/**
 * Cross-instance delivery through Redis (127.0.0.1:6379). HOOK: `@se/redis` has no built
 * dist yet (and `@se/redis` was taken out of this package's dependencies so the root
 * `turbo run build --filter=@se/bench...` does not build an empty package). Once
 * `packages/redis/dist/index.js` exists: add `"@se/redis": "workspace:^"` back, start two se-core
 * servers sharing a Redis backplane on 127.0.0.1:6379, connect clients to the second, broadcast
 * on the first with a send timestamp in `data`, and report latency p50/p99 and events/s.
 */
const redis: ScenarioDef = {
  id: "redis",
  title: "Cross-instance delivery through Redis",
  async run() {
    const built = existsSync(
      fileURLToPath(new URL("../../../packages/redis/dist/index.js", import.meta.url)),
    );
    const latency = series("latencyP50", "publish → receive latency p50", "ms", "lower", "se-core");
    const note = built
      ? "packages/redis/dist exists but this scenario is still a hook: implement runRedis in apps/bench/src/scenarios.ts."
      : "SKIPPED: @se/redis is not built yet (packages/redis/dist missing). Hook left in apps/bench/src/scenarios.ts.";
    latency.skipped["se-core+redis"] = note;
    return {
      id: "redis",
      title: "Cross-instance delivery through Redis",
      params: {},
      series: [latency],
      notes: [note],
    };
  },
};

export const SCENARIOS: ScenarioDef[] = [
  throughput(
    "burst",
    "Burst fan-out",
    { clients: 1000, events: 300, size: 100, mode: "burst" },
    { clients: 200, events: 100, size: 100, mode: "burst" },
  ),
  throughput(
    "few",
    "Many events to few clients",
    { clients: 100, events: 3000, size: 100, mode: "burst" },
    { clients: 50, events: 1000, size: 100, mode: "burst" },
  ),
  throughput(
    "paced",
    "Paced fan-out (one event per macrotask)",
    { clients: 1000, events: 300, size: 100, mode: "paced" },
    { clients: 200, events: 100, size: 100, mode: "paced" },
  ),
  idle,
  encoder,
  stalled,
  redis,
];
