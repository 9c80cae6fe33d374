/** How often a drain window ends its next share of streams. */
const STEP_MS = 10;
/**
 * Streams ended in one task at most: ending one costs a write and Node's own bookkeeping
 * (tens of µs), so thousands at once would stall the event loop for every other route.
 */
const SLICE = 256;

/**
 * Runs `end` for every item, spread evenly at random over `windowMs`, so clients ended together
 * do not all reconnect in the same instant; with no window, at once, {@link SLICE} per task so
 * other requests are served in between. Resolves when every item was ended. @internal
 */
export function endOverWindow<T>(
  items: readonly T[],
  windowMs: number,
  end: (item: T) => void,
): Promise<void> {
  if (windowMs <= 0 || items.length <= 1) return endInSlices(items, end);
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j] as T, order[i] as T];
  }
  const started = Date.now();
  let done = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      const share = Math.min(1, (Date.now() - started) / windowMs);
      const due = share >= 1 ? order.length : Math.floor(order.length * share);
      const last = Math.min(due, done + SLICE);
      while (done < last) end(order[done++] as T);
      if (done >= order.length) {
        resolve();
        return;
      }
      setTimeout(step, STEP_MS);
    };
    setTimeout(step, STEP_MS);
  });
}

function endInSlices<T>(items: readonly T[], end: (item: T) => void): Promise<void> {
  let done = 0;
  const slice = (): void => {
    const last = Math.min(items.length, done + SLICE);
    while (done < last) end(items[done++] as T);
  };
  slice();
  if (done >= items.length) return Promise.resolve();
  return new Promise((resolve) => {
    const next = (): void => {
      slice();
      if (done >= items.length) resolve();
      else setTimeout(next, 0);
    };
    setTimeout(next, 0);
  });
}
