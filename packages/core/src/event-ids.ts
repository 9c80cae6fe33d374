/**
 * Creates ids that are unique and increasing for one hub and keep increasing across
 * restarts: a counter seeded from the clock (microseconds since epoch), so a new
 * process never reuses an id a client may still hold.
 */
export function createIdGenerator(now: () => number = Date.now): () => string {
  let last = 0;
  return () => {
    const candidate = now() * 1000;
    last = candidate > last ? candidate : last + 1;
    return String(last);
  };
}
