/**
 * The load generator, in its own process: opens the clients on raw TCP sockets, asks the
 * server to broadcast, times delivery to the last client, and checks every client got every
 * event exactly once, in order. Receives one {@link LoadJob} over IPC and answers one
 * {@link LoadResult}.
 */
import { performance } from "node:perf_hooks";
import { call, stats } from "./control-client.js";
import { deadline } from "./deadline.js";
import type { BroadcastMode, ServerStats } from "./server-kit.js";
import { SseClient } from "./sse-client.js";

export interface LoadRound {
  m: number;
  s: number;
  mode: BroadcastMode;
  /** Warm-up rounds are verified but not reported. */
  warmup?: boolean;
  /** Events carry their send time; the round reports delivery latency percentiles. */
  stamp?: boolean;
  /** Timer delay between events in `timed` mode, in ms. @default 0 (one per timer tick) */
  gapMs?: number;
}

export interface LoadJob {
  /** Where the clients connect (and `/stats` is read). */
  port: number;
  /** Where broadcasts are requested. @default port */
  controlPort?: number;
  clients: number;
  /** Extra clients that stop reading after the head. */
  stalled: number;
  batch: number;
  rounds: LoadRound[];
  timeoutMs: number;
  /** Take memory after GC before and after connecting (idle scenario). */
  idleMemory: boolean;
  /** Sample the server's peak RSS during each round and take memory after GC after it. */
  peak: boolean;
}

export interface RoundResult {
  m: number;
  s: number;
  mode: BroadcastMode;
  warmup: boolean;
  ok: boolean;
  problems: string[];
  wallMs: number;
  eventsPerSec: number;
  serverCpuMs: number;
  clientCpuMs: number;
  before?: ServerStats;
  after?: ServerStats;
  stalledClosed?: number;
  /** Send → receive delay over every (client, event) of a `stamp` round, in ms. */
  latencyMs?: { p50: number; p99: number; samples: number };
}

export interface LoadResult {
  connectMs: number;
  idleBefore?: ServerStats;
  idleAfter?: ServerStats;
  rounds: RoundResult[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connectAll(job: LoadJob, count: number, stall: boolean): Promise<SseClient[]> {
  const clients: SseClient[] = [];
  for (let i = 0; i < count; i += job.batch) {
    const batch: SseClient[] = [];
    for (let j = i; j < Math.min(count, i + job.batch); j++) {
      batch.push(new SseClient({ port: job.port, stall }));
    }
    clients.push(...batch);
    await deadline(Promise.all(batch.map((c) => c.opened())), 15_000, `opening clients ${i}..`);
  }
  return clients;
}

async function waitRegistered(port: number, expected: number): Promise<void> {
  const until = Date.now() + 15_000;
  let seen = -1;
  while (Date.now() < until) {
    seen = (await stats(port, false)).clients;
    if (seen === expected) return;
    await sleep(20);
  }
  throw new Error(`server registered ${seen} of ${expected} clients`);
}

async function runRound(
  job: LoadJob,
  readers: SseClient[],
  stalled: SseClient[],
  round: LoadRound,
): Promise<RoundResult> {
  const problems: string[] = [];
  const before = await stats(job.port, job.peak);
  if (job.peak) await call(job.port, "POST", "/peak", 5_000);
  let pending = readers.length;
  let finish!: () => void;
  let abort!: (error: Error) => void;
  const delivered = new Promise<void>((resolve, reject) => {
    finish = resolve;
    abort = reject;
  });
  for (const client of readers) {
    client.expect(
      round.m,
      () => {
        if (--pending === 0) finish();
      },
      round.stamp === true,
    );
    client.onClose = () =>
      abort(new Error(`a reading client was disconnected after ${client.count} events`));
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = call(
    job.controlPort ?? job.port,
    "POST",
    `/broadcast?m=${round.m}&s=${round.s}&mode=${round.mode}${round.stamp ? "&stamp=1" : ""}${round.gapMs ? `&gap=${round.gapMs}` : ""}`,
    job.timeoutMs,
  );
  sent.catch(() => {});
  let wallMs = Number.NaN;
  try {
    await deadline(delivered, job.timeoutMs, "delivery");
    wallMs = performance.now() - t0;
  } catch (error) {
    const short = readers.filter((c) => c.count < round.m);
    const least = Math.min(...short.map((c) => c.count));
    problems.push(
      `${(error as Error).message}: ${short.length} clients short (least ${least}/${round.m})`,
    );
  }
  const clientCpu = process.cpuUsage(cpu0);
  try {
    await sent;
  } catch (error) {
    problems.push(`broadcast request failed: ${(error as Error).message}`);
  }
  const mid = await stats(job.port, false);
  await sleep(150); // anything extra (duplicates) arrives now
  for (const client of readers) {
    if (client.count !== round.m)
      problems.push(`a client got ${client.count} of ${round.m} events`);
    if (client.errors > 0)
      problems.push(`a client saw ${client.errors} bad events: ${client.firstError}`);
    if (client.closed) problems.push("a reading client was disconnected");
    if (round.stamp && client.latencies.length !== client.count)
      problems.push(`a client got ${client.count - client.latencies.length} events without a time`);
    if (problems.length > 5) break;
  }
  const after = job.peak ? await stats(job.port, true) : undefined;
  const events = round.m * readers.length;
  return {
    m: round.m,
    s: round.s,
    mode: round.mode,
    warmup: round.warmup === true,
    ok: problems.length === 0,
    problems,
    wallMs,
    eventsPerSec: events / (wallMs / 1000),
    serverCpuMs: (mid.cpuUserUs + mid.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs) / 1000,
    clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
    // A paused socket does not see the server's reset: count from the server's registry.
    ...(job.peak && after
      ? { before, after, stalledClosed: readers.length + stalled.length - after.clients }
      : {}),
    ...(round.stamp ? { latencyMs: percentiles(readers.flatMap((c) => c.latencies)) } : {}),
  };
}

function percentiles(samples: number[]): { p50: number; p99: number; samples: number } {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5) ?? Number.NaN, p99: at(0.99) ?? Number.NaN, samples: sorted.length };
}

async function run(job: LoadJob): Promise<LoadResult> {
  const result: LoadResult = { connectMs: 0, rounds: [] };
  if (job.idleMemory) result.idleBefore = await stats(job.port, true);
  const t0 = performance.now();
  const readers = await connectAll(job, job.clients, false);
  const stalled = await connectAll(job, job.stalled, true);
  await waitRegistered(job.port, job.clients + job.stalled);
  result.connectMs = performance.now() - t0;
  if (job.idleMemory) {
    await sleep(300);
    result.idleAfter = await stats(job.port, true);
  }
  for (const round of job.rounds) {
    const outcome = await runRound(job, readers, stalled, round);
    result.rounds.push(outcome);
    if (!outcome.ok) break;
  }
  for (const client of [...readers, ...stalled]) client.close();
  return result;
}

process.on("disconnect", () => process.exit(0));
process.once("message", (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.({ type: "result", result }, () => process.exit(0)),
    (error: unknown) =>
      process.send?.({ type: "error", message: (error as Error).stack ?? String(error) }, () =>
        process.exit(1),
      ),
  );
});
process.send?.({ type: "ready" });
