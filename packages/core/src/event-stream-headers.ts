/**
 * Response headers of an event stream. `Connection: keep-alive` is only valid on
 * HTTP/1.x; HTTP/2 forbids connection-specific headers.
 */
export function eventStreamHeaders(httpVersionMajor = 1): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  };
  if (httpVersionMajor < 2) headers.connection = "keep-alive";
  return headers;
}

/**
 * Reads the client's last event id: the `Last-Event-ID` header, or the `lastEventId`
 * query parameter for clients that cannot set headers. `undefined` when neither is a non-empty
 * string.
 *
 * The value is returned as received, not validated: pass it to `checkLastEventId`, which the hub's
 * `connect` does. Node (and the Fetch `Headers` of a web `Request`) give a header value one
 * character per byte (Latin-1), so a non-ASCII id a browser sent as UTF-8 reads as other
 * characters (`"é"` as `"Ã©"`); a query value is percent-decoded as UTF-8. Either way, a value
 * with characters outside printable ASCII cannot be an id se wrote (`checkId` allows none), and
 * `checkLastEventId` refuses it.
 */
export function readLastEventId(
  header: string | string[] | null | undefined,
  url: string | undefined,
): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value === "string" && value !== "") return value;
  if (url === undefined) return undefined;
  const query = url.indexOf("?");
  if (query === -1) return undefined;
  const fromQuery = new URLSearchParams(url.slice(query + 1)).get("lastEventId");
  return fromQuery === null || fromQuery === "" ? undefined : fromQuery;
}
