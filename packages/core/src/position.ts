/**
 * Positions place shared events in one order: `"<n>"` (the in-memory hub's counter) or
 * `"<n>-<m>"` (a Redis stream entry id). Compared part by part, as numbers.
 */
const POSITION = /^\d{1,16}(?:-\d{1,16})?$/;

/** Whether `value` has the form of a position. */
export function isPosition(value: string): boolean {
  return POSITION.test(value);
}

/** Negative when `a` comes before `b`, 0 when equal, positive after. Both must be positions. */
export function comparePositions(a: string, b: string): number {
  if (a === b) return 0;
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  const headA = Number(dashA === -1 ? a : a.slice(0, dashA));
  const headB = Number(dashB === -1 ? b : b.slice(0, dashB));
  if (headA !== headB) return headA - headB;
  const tailA = dashA === -1 ? 0 : Number(a.slice(dashA + 1));
  const tailB = dashB === -1 ? 0 : Number(b.slice(dashB + 1));
  return tailA - tailB;
}

/** The id of the `n`-th per-connection event sent after `position`: `"<position>~<n>"`. */
export function connectionEventId(position: string, n: number): string {
  return `${position}~${n}`;
}

const CONNECTION_ID = /^(\d{1,16}(?:-\d{1,16})?)~\d{1,16}$/;

/**
 * The position a per-connection event id (`"<position>~<n>"`) was sent after, or `undefined`
 * for any other id.
 */
export function positionOfConnectionEventId(id: string): string | undefined {
  return CONNECTION_ID.exec(id)?.[1];
}
