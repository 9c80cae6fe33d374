/**
 * A CPU profile of one phase of a benchmark server, taken from inside it through
 * `node:inspector` (so it starts and stops on a control request, not with the process).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";

export class CpuProfiler {
  #session: Session | undefined;
  #startedAt = 0;

  /** Starts profiling (1 ms sampling); answers the wall-clock time it started at, in ms. */
  async start(): Promise<{ startedAt: number }> {
    if (this.#session) throw new Error("a profile is already running");
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 1000 });
    await session.post("Profiler.start");
    this.#session = session;
    this.#startedAt = performance.timeOrigin + performance.now();
    return { startedAt: this.#startedAt };
  }

  /** Stops and writes the `.cpuprofile` (Chrome DevTools format) to `file`. */
  async stop(file: string): Promise<{ file: string; startedAt: number }> {
    const session = this.#session;
    if (!session) throw new Error("no profile is running");
    this.#session = undefined;
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return { file, startedAt: this.#startedAt };
  }
}
