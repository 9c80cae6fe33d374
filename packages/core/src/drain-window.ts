/** How often a drain window ends its next share of streams. */
const STEP_MS = 10;

/**
 * Runs `end` for every item, spread evenly at random over `windowMs` (at once when 0), so
 * clients ended together do not all reconnect in the same instant. Resolves when every item
 * was ended. @internal
 */
export function endOverWindow<T>(
  items: readonly T[],
  windowMs: number,
  end: (item: T) => void,
): Promise<void> {
  if (windowMs <= 0 || items.length <= 1) {
    for (const item of items) end(item);
    return Promise.resolve();
  }
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
      while (done < due) end(order[done++] as T);
      if (done >= order.length) {
        resolve();
        return;
      }
      setTimeout(step, STEP_MS);
    };
    setTimeout(step, STEP_MS);
  });
}
