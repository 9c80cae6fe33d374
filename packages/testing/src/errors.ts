import { describeEvents } from "./describe-events.js";
import type { AnyStreamEvent } from "./stream-event.js";

const MARKER = Symbol.for("@se/testing.error");

/** Base of every error `@se/testing` throws; `code` is stable, the message says what happened. */
export class SeTestingError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for an error of this family, even from another copy of the package. */
  static isInstance(value: unknown): value is SeTestingError {
    return typeof value === "object" && value !== null && MARKER in value;
  }
}

/** Details shared by the errors of a wait that did not get its event. */
interface WaitDetails {
  /** What was awaited, e.g. `event "greeting"`. */
  readonly awaited: string;
  readonly url: string;
  /** Every event the stream had received when the wait failed. */
  readonly events: readonly AnyStreamEvent[];
}

/** No awaited event arrived within `timeoutMs` (`next`, `take`, `waitFor`, iteration). */
export class EventTimeoutError extends SeTestingError {
  readonly awaited: string;
  readonly timeoutMs: number;
  readonly url: string;
  /** The last events received (up to 5), oldest first. */
  readonly lastEvents: readonly AnyStreamEvent[];

  constructor(details: WaitDetails & { readonly timeoutMs: number }) {
    super(
      "SE_TESTING_EVENT_TIMEOUT",
      `Timed out after ${details.timeoutMs} ms waiting for ${details.awaited} on ${details.url}; ` +
        describeEvents(details.events),
    );
    this.awaited = details.awaited;
    this.timeoutMs = details.timeoutMs;
    this.url = details.url;
    this.lastEvents = details.events.slice(-5);
  }
}

/** The stream ended (by the server, or `close()`) before the awaited event arrived. */
export class StreamEndedError extends SeTestingError {
  readonly awaited: string;
  readonly url: string;
  /** Who ended the stream. */
  readonly by: "server" | "client";
  readonly lastEvents: readonly AnyStreamEvent[];

  constructor(
    details: WaitDetails & { readonly by: "server" | "client"; readonly cause?: unknown },
  ) {
    const who = details.by === "server" ? "the server ended the stream" : "the stream was closed";
    super(
      "SE_TESTING_STREAM_ENDED",
      `Waiting for ${details.awaited} on ${details.url}, but ${who}; ${describeEvents(details.events)}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.awaited = details.awaited;
    this.url = details.url;
    this.by = details.by;
    this.lastEvents = details.events.slice(-5);
  }
}

/** The server answered, but not with a `200` `text/event-stream` response. */
export class StreamResponseError extends SeTestingError {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** The `content-type` header, `""` when there was none. */
  readonly contentType: string;
  /** The response body as text (at most 4 KiB). */
  readonly body: string;

  constructor(url: string, response: Response, body: string) {
    const contentType = response.headers.get("content-type") ?? "";
    const why =
      response.status === 200
        ? `content-type ${JSON.stringify(contentType)}, not text/event-stream`
        : `HTTP ${response.status}`;
    super(
      "SE_TESTING_BAD_RESPONSE",
      `Expected an event stream from ${url}, got ${why}: ${JSON.stringify(body.slice(0, 200))}`,
    );
    this.url = url;
    this.status = response.status;
    this.headers = response.headers;
    this.contentType = contentType;
    this.body = body;
  }
}

/** The request failed before any response: refused, reset, or no headers within `timeoutMs`. */
export class StreamConnectError extends SeTestingError {
  readonly url: string;

  constructor(url: string, reason: string, cause: unknown) {
    super("SE_TESTING_CONNECT", `Could not open an event stream to ${url}: ${reason}`, { cause });
    this.url = url;
  }
}

/** The `decode` option threw for an event's data; the stream is closed. */
export class StreamDecodeError extends SeTestingError {
  readonly url: string;
  /** The event whose data could not be decoded (its `data` is the raw text). */
  readonly event: AnyStreamEvent;

  constructor(url: string, event: AnyStreamEvent, cause: unknown) {
    super(
      "SE_TESTING_DECODE",
      `Could not decode the data of event "${event.event}" (id ${event.id ?? "none"}) from ${url}: ` +
        `${(cause as Error)?.message ?? String(cause)}; data ${JSON.stringify(String(event.data).slice(0, 200))}`,
      { cause },
    );
    this.url = url;
    this.event = event;
  }
}

/** `waitFor(condition, what, timeoutMs)` gave up. */
export class WaitTimeoutError extends SeTestingError {
  readonly what: string;
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super("SE_TESTING_WAIT_TIMEOUT", `Timed out waiting for ${what} (${timeoutMs} ms)`);
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}
