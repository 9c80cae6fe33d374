const STREAM_ID = /^\d{1,16}-\d{1,16}$/;

/** Whether `value` has the form of a Redis stream entry id (`"<ms>-<seq>"`). @internal */
export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** The time a stream entry was written: the ms part of its id. @internal */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
