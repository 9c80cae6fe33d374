/** Something with text waiting to be written at the end of the current task. */
export interface Flushable {
  flush(): void;
}

/**
 * Collects connections that have text waiting and flushes them all in one
 * microtask, so events sent in one synchronous burst leave as one write per
 * client, without adding a timer or a tick of latency.
 */
export class FlushScheduler {
  #dirty: Flushable[] = [];
  #scheduled = false;
  readonly #flushAll = (): void => {
    this.#scheduled = false;
    const batch = this.#dirty;
    this.#dirty = [];
    for (let i = 0; i < batch.length; i++) batch[i]?.flush();
  };

  schedule(target: Flushable): void {
    this.#dirty.push(target);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushAll);
    }
  }
}
