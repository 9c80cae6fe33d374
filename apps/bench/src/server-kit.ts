/**
 * What every benchmark server shares, whatever library it wraps: the control surface
 * (`POST /broadcast`, `GET /stats`, `POST /peak`) and the payloads it broadcasts. Each
 * implementation only supplies "open a stream" and "send one event to every client".
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type IntervalHistogram, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";
import { CpuProfiler } from "./cpu-profiler.js";
import { Ticker } from "./ticker.js";

/** One event to every connected client, as the implementation does it idiomatically. */
export type SendToAll = (data: string) => void;

/** What an implementation gives the harness once it listens. */
export interface BenchServer {
  readonly port: number;
  /** Streams the implementation has registered (its own registry where it has one). */
  clients(): number;
  send: SendToAll;
  /** Ends every stream the way the library does it (`hub.resync()`), so every client reconnects. */
  resync?(): void;
}

/** What the control surface needs of a server. */
export type Controlled = Pick<BenchServer, "clients" | "send" | "resync">;

export type BroadcastMode = "burst" | "paced" | "timed";

export interface BroadcastRequest {
  /** Number of events. */
  m: number;
  /** Bytes of `data` per event. */
  s: number;
  /** `burst`: all events in one synchronous loop; `paced`: one per macrotask (`setImmediate`); `timed`: one per timer tick (`setTimeout(gapMs)`, ≈ 1 ms for 0). */
  mode: BroadcastMode;
  /** Timer delay between events in `timed` mode, in ms. */
  gapMs: number;
  /** Put the send time after the sequence number (the redis scenario's latency). */
  stamp: boolean;
}

export const STREAM_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
} as const;

export function parseBroadcast(url: string): BroadcastRequest {
  const query = new URL(url, "http://127.0.0.1").searchParams;
  const m = Number(query.get("m") ?? "1");
  const s = Number(query.get("s") ?? "100");
  const given = query.get("mode");
  const mode = given === "paced" || given === "timed" ? given : "burst";
  const stamp = query.get("stamp") === "1";
  const gapMs = Number(query.get("gap") ?? "0");
  const sizeOk = Number.isSafeInteger(s) && s >= (stamp ? 32 : 8);
  if (!Number.isSafeInteger(m) || m < 1 || !sizeOk || !(gapMs >= 0 && gapMs <= 1000)) {
    throw new Error(`bad broadcast request ${url}`);
  }
  return { m, s, mode, stamp, gapMs };
}

/**
 * The `data` of event `seq`: its sequence number, a colon, and padding up to `size` bytes.
 * The load generator checks the numbers arrive in order, once each.
 */
export function payload(seq: number, size: number, padding: string): string {
  const head = `${seq}:`;
  return head + padding.slice(0, Math.max(0, size - head.length));
}

/**
 * {@link payload} with the send time after the sequence number: `seq:µs:xxx…`, µs being
 * `performance.timeOrigin + performance.now()` in whole microseconds, a wall clock that
 * processes on one machine share.
 */
export function stampedPayload(seq: number, size: number, padding: string): string {
  const sentUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const head = `${seq}:${sentUs}:`;
  return head + padding.slice(0, Math.max(0, size - head.length));
}

/** Runs one broadcast request; resolves when every event was handed to the library. */
export function runBroadcast(request: BroadcastRequest, send: SendToAll): Promise<void> {
  const padding = "x".repeat(request.s);
  const make = request.stamp ? stampedPayload : payload;
  if (request.mode === "burst") {
    for (let seq = 0; seq < request.m; seq++) send(make(seq, request.s, padding));
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    let seq = 0;
    const step = (): void => {
      try {
        send(make(seq, request.s, padding));
      } catch (error) {
        reject(error);
        return;
      }
      seq++;
      if (seq >= request.m) resolve();
      else if (request.mode === "paced") setImmediate(step);
      else setTimeout(step, request.gapMs);
    };
    setImmediate(step);
  });
}

let peakRss = 0;
let peakHeap = 0;
let sampler: ReturnType<typeof setInterval> | undefined;
let heapSampler: ReturnType<typeof setInterval> | undefined;
let loopDelay: IntervalHistogram | undefined;

/**
 * Starts (or restarts) sampling RSS every 10 ms and the heap every 50 ms, and the event
 * loop's delay (for the stalled-reader and storm scenarios).
 */
export function resetPeak(): void {
  peakRss = process.memoryUsage.rss();
  peakHeap = process.memoryUsage().heapUsed;
  if (sampler) clearInterval(sampler);
  if (heapSampler) clearInterval(heapSampler);
  sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
  }, 10);
  sampler.unref();
  heapSampler = setInterval(() => {
    const heap = process.memoryUsage().heapUsed;
    if (heap > peakHeap) peakHeap = heap;
  }, 50);
  heapSampler.unref();
  loopDelay?.disable();
  loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
}

export interface ServerStats {
  clients: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  peakRss: number;
  /** Highest heap used seen by the 50-ms sampler since `/peak` (0 before). */
  peakHeapUsed: number;
  /** Longest event-loop delay since `/peak`, in ms (0 before). */
  loopDelayMaxMs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
}

/** Memory and CPU of this process; with `gc`, after two full collections. */
export function collectStats(clients: number, gc: boolean): ServerStats {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    if (!collect) throw new Error("run the server with --expose-gc");
    collect();
    collect();
  }
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  if (memory.rss > peakRss) peakRss = memory.rss;
  return {
    clients,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    peakRss,
    peakHeapUsed: peakHeap,
    loopDelayMaxMs: loopDelay ? loopDelay.max / 1e6 : 0,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
  };
}

const tickers = new WeakMap<Controlled, Ticker>();
const profiler = new CpuProfiler();

/** Answers a control request; shared by every implementation so the surface is identical. */
export async function control(
  method: string,
  url: string,
  server: Controlled,
): Promise<{ status: number; body: unknown } | undefined> {
  const path = url.split("?")[0];
  const query = new URL(url, "http://127.0.0.1").searchParams;
  if (method === "GET" && path === "/health") return { status: 200, body: { ok: true } };
  if (method === "POST" && path === "/ticker") {
    const ticker = tickers.get(server) ?? new Ticker();
    tickers.set(server, ticker);
    if (query.get("stop") === "1") return { status: 200, body: ticker.stop() };
    const gapMs = Number(query.get("gap") ?? "10");
    const size = Number(query.get("s") ?? "100");
    if (!(gapMs >= 1 && gapMs <= 1000) || !Number.isSafeInteger(size) || size < 32) {
      throw new Error(`bad ticker request ${url}`);
    }
    ticker.start(server.send, gapMs, size);
    return { status: 200, body: { ok: true } };
  }
  if (method === "POST" && path === "/resync") {
    if (!server.resync) return { status: 501, body: { error: "this server cannot resync" } };
    server.resync();
    return { status: 200, body: { ok: true } };
  }
  if (method === "POST" && path === "/profile") {
    // Diagnostic: a CPU profile of one phase (the storm scenario with BENCH_STORM_PROFILE).
    const file = query.get("file");
    if (file) return { status: 200, body: await profiler.stop(file) };
    return { status: 200, body: await profiler.start() };
  }
  if (method === "POST" && path === "/broadcast") {
    await runBroadcast(parseBroadcast(url), server.send);
    return { status: 200, body: { ok: true } };
  }
  if (method === "GET" && path === "/stats") {
    return { status: 200, body: collectStats(server.clients(), url.includes("gc=1")) };
  }
  if (method === "POST" && path === "/heap-snapshot") {
    // Diagnostic, not used by the scenarios: where an implementation's memory goes.
    const file = new URL(url, "http://127.0.0.1").searchParams.get("file") ?? undefined;
    return { status: 200, body: { file: writeHeapSnapshot(file) } };
  }
  if (method === "POST" && path === "/peak") {
    resetPeak();
    return { status: 200, body: { ok: true } };
  }
  return undefined;
}

/** {@link control} for a `node:http` server. Returns false when the request is not a control one. */
export function nodeControl(
  req: IncomingMessage,
  res: ServerResponse,
  server: Controlled,
): boolean {
  const url = req.url ?? "/";
  if (url.startsWith("/events")) return false;
  req.resume();
  control(req.method ?? "GET", url, server).then(
    (answer) => {
      const status = answer?.status ?? 404;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer?.body ?? { error: "not found" }));
    },
    (error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String(error) }));
    },
  );
  return true;
}
