/**
 * Creates the positions (and generated ids) of one hub's shared events: a counter seeded from
 * the clock (microseconds since epoch), `max(now() * 1000, last + 1)`, so ids are unique and
 * increasing for the hub and keep increasing across restarts: a new process never reuses an id
 * a client may still hold. Each generator keeps its own state; nothing is shared between hubs.
 */
export function createIdGenerator(now: () => number = Date.now): () => string {
  let last = 0;
  return () => {
    const candidate = Math.floor(now()) * 1000;
    last = candidate > last ? candidate : last + 1;
    return String(last);
  };
}
