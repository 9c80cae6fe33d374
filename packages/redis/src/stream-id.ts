const STREAM_ID = /^\d{1,16}-\d{1,16}$/;

/** Whether `value` has the form of a Redis stream entry id (`"<ms>-<seq>"`). @internal */
export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** Negative when stream id `a` comes before `b`, 0 when equal, positive after. @internal */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  const msA = Number(a.slice(0, dashA));
  const msB = Number(b.slice(0, dashB));
  if (msA !== msB) return msA - msB;
  return Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1));
}

/** The time a stream entry was written: the ms part of its id. @internal */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
