/**
 * The scenarios. Each forks a fresh server per (implementation, rep), interleaved rep by rep
 * (A B C A B C …), and a separate load-generator process that verifies delivery.
 */
import { forkScript, message, stop } from "./children.js";
import type { EncoderJob, EncoderResult } from "./encoder-bench.js";
import type { LoadJob } from "./loadgen.js";
import { redis } from "./redis-scenario.js";
import type { Series } from "./results.js";
import {
  describeFailure,
  interleave,
  record,
  type ScenarioDef,
  series,
  withServer,
} from "./scenario-kit.js";
import { stormScenarios } from "./storm-scenario.js";

const MB = 1024 * 1024;

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
    const peak = series("peakGrowthMb", "peak RSS growth during the broadcast", "MiB", "lower");
    const retained = series(
      "retainedMb",
      "heap + external retained after the broadcast, after GC",
      "MiB",
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
    const labels: Record<string, string> = {
      "single-line": "single-line data, 100 bytes, frame built and flattened",
      "multi-line": "multi-line data, 100 bytes, frame built and flattened",
      "single-line-rope":
        "single-line data, 100 bytes, frame left as a rope (diagnostic: the earlier measure)",
    };
    const all: Series[] = [];
    for (const [shape, samples] of Object.entries(result)) {
      const s = series(
        shape,
        labels[shape] ?? shape,
        "ns/event",
        "lower",
        shape === "multi-line" ? "template+split" : "template",
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
        "template = `data: ` + data + `\\n\\n` as one template literal; template+check = the same behind the CR/LF check every correct encoder needs; template+split = the same with a CR/LF/CRLF replace. better-sse JSON-encodes strings (its default serializer), so multi-line data becomes one line.",
        "Flattened: each frame is read once (one character), which makes V8 copy a rope into one flat string, as the socket write that follows would; an encoder that already returns a flat string pays only the read. Rope: only `.length` of the result is read, so the frame's text is never assembled. Each variant runs in its own copy of the timing loop.",
      ],
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
  ...stormScenarios.map((scenario) => ({ ...scenario, optIn: true })),
];
