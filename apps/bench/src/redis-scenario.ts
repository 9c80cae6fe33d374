/**
 * Cross-instance delivery through Redis: two se-core servers (separate processes) share a
 * Redis backplane; the clients are connected to instance B, broadcasts are requested on
 * instance A. `se-core` alone (clients and broadcasts on one instance, no Redis) is the
 * reference row: what the Redis hop adds.
 */
import { randomBytes } from "node:crypto";
import { REDIS_IMPL } from "./implementations.js";
import type { LoadJob, LoadRound } from "./loadgen.js";
import { deleteKeys, REDIS_URL, redisUnreachable } from "./redis-admin.js";
import type { Series } from "./results.js";
import {
  describeFailure,
  interleave,
  record,
  type ScenarioDef,
  series,
  withServers,
} from "./scenario-kit.js";

interface RedisShape {
  clients: number;
  /** Events of the latency round, one every `gapMs`. */
  timed: number;
  /** Pause between the latency round's events: light load, so latency is not queueing. */
  gapMs: number;
  /** Events of the throughput round, one synchronous burst. */
  burst: number;
  size: number;
}

const FULL: RedisShape = { clients: 100, timed: 600, gapMs: 5, burst: 2000, size: 100 };
const QUICK: RedisShape = { clients: 20, timed: 200, gapMs: 5, burst: 500, size: 100 };
const NAMES = ["se-core", REDIS_IMPL] as const;

export const redis: ScenarioDef = {
  id: "redis",
  title: "Cross-instance delivery through Redis",
  async run(options) {
    const shape = options.quick ? QUICK : FULL;
    const title = `Cross-instance delivery through Redis: ${shape.clients} clients on instance B, broadcasts on A`;
    const p50 = series("latencyP50", "send → receive latency p50", "ms", "lower", "se-core");
    const p99 = series("latencyP99", "send → receive latency p99", "ms", "lower", "se-core");
    const rate = series(
      "eventsPerSec",
      `events delivered per second, ${shape.burst}-event burst`,
      "events/s",
      "higher",
      "se-core",
    );
    const all: Series[] = [p50, p99, rate];
    const result = {
      id: "redis",
      title,
      params: { ...shape, redis: REDIS_URL },
      series: all,
      notes: [
        `se-core+redis: two se-core processes with \`redisBackplane()\` and \`backplane.history()\` (as in the @se/redis README; every other default kept), one key prefix per rep, deleted afterwards; the clients are on instance B, \`/broadcast\` is called on instance A. se-core: one process, no Redis (the reference).`,
        `Latency: ${shape.timed} events, one every ${shape.gapMs} ms (\`setTimeout\`; ${Math.round((shape.clients * 1000) / shape.gapMs / 1000)} k deliveries/s, a fraction of what the paced scenario shows the load generator can take, so events do not queue up; each figure still includes writing the event to all ${shape.clients} clients and reading it there on shared cores, which the se-core row shows without Redis); each event's data carries its send time (\`performance.timeOrigin + performance.now()\` in the server when it calls \`hub.broadcast\`), the load generator subtracts it from the same clock when it parses the event. Both are processes on one machine reading one system clock. p50/p99 over every (client, event).`,
        `Events/s: ${shape.burst} events × ${shape.clients} clients in one synchronous loop on A, from the broadcast request to the last event at the last client on B. Every client must get every event once, in order (warm-up rounds included).`,
      ],
    };
    if (!options.impls.includes("se-core")) {
      for (const s of all) for (const name of NAMES) s.skipped[name] = "se-core not selected";
      return result;
    }
    const down = await redisUnreachable();
    if (down) {
      options.log(`  redis: SKIPPED — ${down}`);
      for (const s of all) s.skipped[REDIS_IMPL] = `SKIPPED: ${down}`;
    }
    const rounds: LoadRound[] = [
      {
        m: Math.round(shape.timed / 10),
        s: shape.size,
        mode: "timed",
        gapMs: shape.gapMs,
        stamp: true,
        warmup: true,
      },
      { m: Math.round(shape.burst / 10), s: shape.size, mode: "burst", warmup: true },
      { m: shape.timed, s: shape.size, mode: "timed", gapMs: shape.gapMs, stamp: true },
      { m: shape.burst, s: shape.size, mode: "burst" },
    ];
    const job: Omit<LoadJob, "port" | "controlPort"> = {
      clients: shape.clients,
      stalled: 0,
      batch: 50,
      timeoutMs: 60_000,
      idleMemory: false,
      peak: false,
      rounds,
    };
    const run = `se-bench-${process.pid}-${randomBytes(4).toString("hex")}-`;
    const names = down ? NAMES.filter((name) => name !== REDIS_IMPL) : NAMES;
    try {
      await interleave(
        options,
        all,
        "redis",
        async (impl, rep) => {
          const prefix = `${run}${rep}:`;
          const specs =
            impl === REDIS_IMPL
              ? [
                  { impl, args: [prefix] },
                  { impl, args: [prefix] },
                ]
              : [{ impl }];
          const outcome = await withServers(specs, job, 240_000);
          const bad = outcome.rounds.find((r) => !r.ok);
          if (bad || outcome.rounds.length !== rounds.length)
            throw new Error(describeFailure(bad, "a round did not run"));
          const latency = outcome.rounds.find((r) => !r.warmup && r.latencyMs)?.latencyMs;
          const burst = outcome.rounds.find((r) => !r.warmup && r.mode === "burst");
          if (!latency || !burst) throw new Error("no measured round");
          record(p50, impl, latency.p50);
          record(p99, impl, latency.p99);
          record(rate, impl, burst.eventsPerSec);
        },
        names,
      );
    } finally {
      if (!down) {
        const deleted = await deleteKeys(run).catch((error: Error) => {
          options.log(`  redis: could not delete the keys ${run}*: ${error.message}`);
          return 0;
        });
        options.log(`  redis: deleted ${deleted} key(s) under ${run}*`);
      }
    }
    return result;
  },
};
