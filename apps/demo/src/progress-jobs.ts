import { randomUUID } from "node:crypto";

/** One step of a job: how far it got. */
export interface JobProgress {
  readonly jobId: string;
  readonly percent: number;
}

/**
 * Fake long jobs that report progress from 0 to 100 % in steps. Each job calls `report`
 * for every step; the app turns that into a `progress` event for the user who started it.
 * `close()` stops every running job (called when the app closes).
 */
export class ProgressJobs {
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #stepMs: number;
  readonly #step: number;

  constructor(options: { stepMs?: number; step?: number } = {}) {
    this.#stepMs = options.stepMs ?? 200;
    this.#step = options.step ?? 5;
  }

  /** Starts a job; returns its id. `report` is called with 0 at once, then every step. */
  start(report: (progress: JobProgress) => void): string {
    const jobId = randomUUID();
    let percent = 0;
    const tick = (): void => {
      report({ jobId, percent });
      if (percent >= 100) return;
      percent = Math.min(100, percent + this.#step);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        tick();
      }, this.#stepMs);
      this.#timers.add(timer);
    };
    tick();
    return jobId;
  }

  /** Jobs still running. */
  get running(): number {
    return this.#timers.size;
  }

  /** Stops every running job. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
