import { get, type IncomingHttpHeaders } from "node:http";
import { createGunzip } from "node:zlib";
import { EventReader } from "./event-reader.js";

/**
 * GETs `url` with `accept-encoding: gzip` over `node:http` (which, unlike `fetch`, leaves the
 * body as sent) and reads it as an event stream, through a gunzip when it is compressed.
 */
export function openGzipAccepting(
  url: string,
): Promise<{ headers: IncomingHttpHeaders; reader: EventReader; abort(): void }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { "accept-encoding": "gzip" } }, (response) => {
      const compressed = response.headers["content-encoding"] === "gzip";
      const body = compressed ? response.pipe(createGunzip()) : response;
      if (compressed) response.once("error", (error) => body.destroy(error));
      resolve({
        headers: response.headers,
        reader: new EventReader(body),
        abort: () => request.destroy(),
      });
    });
    request.once("error", reject);
  });
}
