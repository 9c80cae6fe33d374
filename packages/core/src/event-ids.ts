/** Highest id issued by any clock-seeded generator of this module copy. */
let lastIssued = 0;

/**
 * Creates ids that are unique and increasing for one hub and keep increasing across
 * restarts: a counter seeded from the clock (microseconds since epoch), so a new
 * process never reuses an id a client may still hold. Generators on the default clock
 * share one floor, so a hub created later in the same process never restarts below an
 * earlier hub's ids, even when that one issued more than 1000 ids per millisecond.
 */
export function createIdGenerator(now?: () => number): () => string {
  if (now === undefined) {
    return () => {
      const candidate = Date.now() * 1000;
      lastIssued = candidate > lastIssued ? candidate : lastIssued + 1;
      return String(lastIssued);
    };
  }
  let last = 0;
  return () => {
    const candidate = now() * 1000;
    last = candidate > last ? candidate : last + 1;
    return String(last);
  };
}
