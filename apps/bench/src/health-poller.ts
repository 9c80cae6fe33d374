/**
 * Polls a plain route (`GET /health`) of a bench server, in its own process, while the storm
 * scenario runs: one loop on a kept-alive connection (what the event loop's stalls cost) and
 * one opening a new connection per request (what the listen queue adds, as a load
 * balancer's health check sees it). `start` begins, `stop` answers every sample.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

export interface HealthSample {
  /** Wall-clock ms when the request was sent. */
  at: number;
  /** Time to the full answer, ms (the timeout when it failed). */
  ms: number;
  ok: boolean;
}

export interface HealthSamples {
  keepAlive: HealthSample[];
  fresh: HealthSample[];
}

const TIMEOUT_MS = 30_000;
const MAX_SAMPLES = 100_000;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let running = false;

function get(port: number, agent: Agent | false): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/health", agent }, (res) => {
      res.resume();
      res.on("end", () => {
        clearTimeout(timer);
        resolve(res.statusCode === 200);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error("timeout")), TIMEOUT_MS);
    req.on("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
    req.end();
  });
}

async function poll(port: number, everyMs: number, agent: Agent | false, into: HealthSample[]) {
  while (running && into.length < MAX_SAMPLES) {
    const at = now();
    const ok = await get(port, agent);
    into.push({ at, ms: now() - at, ok });
    const wait = at + everyMs - now();
    if (wait > 0) await sleep(wait);
  }
}

type Command = { type: "start"; port: number; everyMs: number } | { type: "stop" };
let loops: Promise<unknown> = Promise.resolve();
const samples: HealthSamples = { keepAlive: [], fresh: [] };

process.on("disconnect", () => process.exit(0));
process.on("message", (command: Command) => {
  if (command.type === "start") {
    running = true;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    loops = Promise.all([
      poll(command.port, command.everyMs, agent, samples.keepAlive),
      poll(command.port, command.everyMs, false, samples.fresh),
    ]).finally(() => agent.destroy());
    process.send?.({ type: "started" });
    return;
  }
  running = false;
  loops.then(() => process.send?.({ type: "stopped", samples }));
});
process.send?.({ type: "ready" });
