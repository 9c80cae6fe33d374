import { StreamConnectError, StreamResponseError } from "./errors.js";
import { EventStream } from "./event-stream.js";
import type { EventMap, TextEvents } from "./stream-event.js";
import { resolveTarget, type StreamTarget } from "./stream-target.js";

/** Turns an event's data text into the `data` the stream yields. */
export type Decode = "text" | "json" | ((data: string, event: string) => unknown);

/** Options of {@link openStream}. */
export interface OpenStreamOptions {
  /** Path (and query) of the stream, resolved against the target. @default "/" for an app or server */
  readonly path?: string;
  /** Request headers (`accept: text/event-stream` is sent unless you set it). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as the `Last-Event-ID` header, as a reconnecting `EventSource` does. */
  readonly lastEventId?: string;
  /**
   * How long to wait for the response headers, and for each event in `next`, `take`, `waitFor`
   * and iteration (each of which can override it).
   * @default 3000
   */
  readonly timeoutMs?: number;
  /**
   * How event data is decoded: `"text"` keeps the string, `"json"` parses it (a parse error
   * closes the stream and fails the next wait with `StreamDecodeError`), or a function.
   * @default "text"
   */
  readonly decode?: Decode;
  /** Other `fetch` options (`method`, `body`, `dispatcher`, ...). */
  readonly init?: Omit<RequestInit, "headers" | "signal">;
  /** The `fetch` to use. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** A resolved request, kept by the stream for `reconnect()`. @internal */
export interface StreamRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly lastEventId: string | undefined;
  readonly timeoutMs: number;
  readonly decode: (data: string, event: string) => unknown;
  readonly init: Omit<RequestInit, "headers" | "signal">;
  readonly fetch: typeof fetch;
}

function decoder(decode: Decode): (data: string, event: string) => unknown {
  if (decode === "text") return (data) => data;
  if (decode === "json") return (data) => JSON.parse(data);
  return decode;
}

function requestHeaders(request: StreamRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers.accept ??= "text/event-stream";
  headers["cache-control"] ??= "no-cache";
  if (request.lastEventId) headers["last-event-id"] = request.lastEventId;
  return headers;
}

async function readSome(response: Response, limit: number): Promise<string> {
  const text = await response.text().catch(() => "");
  return text.slice(0, limit);
}

async function connect<E extends EventMap>(request: StreamRequest): Promise<EventStream<E>> {
  const url = request.url.href;
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`no response headers within ${request.timeoutMs} ms`)),
    request.timeoutMs,
  );
  let response: Response;
  try {
    response = await request.fetch(url, {
      ...request.init,
      headers: requestHeaders(request),
      signal: controller.signal,
    });
  } catch (error) {
    const reason = controller.signal.aborted
      ? (controller.signal.reason as Error).message
      : describeFetchError(error);
    throw new StreamConnectError(url, reason, error);
  } finally {
    clearTimeout(timer);
  }
  const type = response.headers.get("content-type") ?? "";
  if (response.status !== 200 || !/^text\/event-stream\b/i.test(type) || response.body === null) {
    throw new StreamResponseError(url, response, await readSome(response, 4096));
  }
  return new EventStream<E>({ request, response, body: response.body, controller, connect });
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}

/**
 * Opens an event stream on a real socket and resolves once the response headers arrived.
 * `target` is a URL, a Fastify app or a `node:http` server; one that is not listening yet is
 * started on 127.0.0.1:0 (and left running: close it as you close your app). `E` types the
 * events by name (an `@se/fastify`-style event map; use `decode: "json"` for JSON data).
 *
 * @throws {StreamResponseError} the answer was not `200` `text/event-stream` (has `status`, `body`)
 * @throws {StreamConnectError} no response within `timeoutMs`, or the request failed
 * @example
 * await using stream = await openStream(app, { path: "/events" });
 * expect((await stream.waitFor("greeting")).data).toBe("hello world");
 */
export async function openStream<E extends EventMap = TextEvents>(
  target: StreamTarget,
  options: OpenStreamOptions = {},
): Promise<EventStream<E>> {
  const timeoutMs = options.timeoutMs ?? 3000;
  if (!(timeoutMs > 0)) throw new RangeError(`openStream: timeoutMs must be > 0, got ${timeoutMs}`);
  return connect<E>({
    url: await resolveTarget(target, options.path),
    headers: options.headers ?? {},
    lastEventId: options.lastEventId,
    timeoutMs,
    decode: decoder(options.decode ?? "text"),
    init: options.init ?? {},
    fetch: options.fetch ?? globalThis.fetch,
  });
}
