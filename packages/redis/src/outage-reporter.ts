import { RedisUnavailableError } from "./redis-unavailable-error.js";

/** Turns a stream of Redis failures into one report per outage. @internal */
export class OutageReporter {
  #down = false;
  #report: (error: unknown) => void;
  /** Told of every change: down (with the error) and up again. */
  onChange: ((down: boolean, error?: unknown) => void) | undefined;

  constructor(report: (error: unknown) => void) {
    this.#report = report;
  }

  /** True between a failure and the next {@link recover}. */
  get down(): boolean {
    return this.#down;
  }

  /** Where reports go from now on. */
  reportTo(report: (error: unknown) => void): void {
    this.#report = report;
  }

  /** Reports `what` (to `report`, or where {@link reportTo} said) unless this outage was already reported. */
  fail(what: string, cause?: unknown, report = this.#report): void {
    if (this.#down) return;
    this.#down = true;
    const error = new RedisUnavailableError(what, cause === undefined ? undefined : { cause });
    this.onChange?.(true, error);
    report(error);
  }

  /** The connection is back: the next failure is reported again. */
  recover(): void {
    if (!this.#down) return;
    this.#down = false;
    this.onChange?.(false);
  }
}
