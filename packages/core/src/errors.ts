const SE_ERROR_MARKER = Symbol.for("se.error");

/**
 * Stable codes carried by every {@link SeError}:
 * - `SE_ERR_INVALID_FIELD`: a message field cannot be written to an event stream ({@link SseFormatError}).
 * - `SE_ERR_UNSERIALIZABLE_DATA`: `data` could not be turned into text ({@link SseFormatError}).
 * - `SE_ERR_INVALID_OPTION`: an option is not valid ({@link SeOptionError}).
 * - `SE_ERR_CONNECTION_CLOSED`: a send on a stream that has ended ({@link ConnectionClosedError}).
 * - `SE_ERR_HUB_CLOSED`: a send or connect on a closed hub.
 * - `SE_ERR_REDIS_UNAVAILABLE`: Redis could not be reached; sends stay local (`@se/redis`'s
 *   `RedisUnavailableError`, reported through the hub's `error` event, never thrown at senders).
 * - `SE_ERR_BACKPLANE_IN_USE`: a backplane (or its history) was given to a second hub, or
 *   reused after it was closed.
 * - `SE_ERR_CONNECTION_LIMIT`: a connect past `maxConnections` or `maxConnectionsPerSeid`
 *   ({@link ConnectionLimitError}); nothing was opened.
 * - `SE_ERR_RECONNECT_REFUSED`: a connect of a seid that `hub.disconnect(…, { refuseReconnectMs })`
 *   ended a moment ago ({@link ReconnectRefusedError}); answer `204` so the browser stops
 *   reconnecting; nothing was opened.
 * - `SE_ERR_HISTORY_UNAVAILABLE`: the replay history did not answer within `historyTimeoutMs`;
 *   the client was told to reset (reported through the hub's `error` event).
 * - `SE_ERR_INVALID_LAST_EVENT_ID`: a client's `Last-Event-ID` (header or query) is too long or
 *   has characters no se id can have ({@link InvalidLastEventIdError}).
 */
export type SeErrorCode =
  | "SE_ERR_INVALID_FIELD"
  | "SE_ERR_UNSERIALIZABLE_DATA"
  | "SE_ERR_INVALID_OPTION"
  | "SE_ERR_CONNECTION_CLOSED"
  | "SE_ERR_HUB_CLOSED"
  | "SE_ERR_REDIS_UNAVAILABLE"
  | "SE_ERR_BACKPLANE_IN_USE"
  | "SE_ERR_INVALID_LAST_EVENT_ID"
  | "SE_ERR_HISTORY_UNAVAILABLE"
  | "SE_ERR_CONNECTION_LIMIT"
  | "SE_ERR_RECONNECT_REFUSED";

/**
 * Base class of every error thrown by se. `code` is stable across versions;
 * use {@link SeError.isInstance} rather than `instanceof` when several copies
 * of the package may be installed.
 */
export class SeError extends Error {
  readonly code: SeErrorCode;
  readonly [SE_ERROR_MARKER] = true;

  constructor(code: SeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SeError";
    this.code = code;
  }

  /** True for any se error, even one created by another copy of this package. */
  static isInstance(error: unknown): error is SeError {
    return (
      typeof error === "object" &&
      error !== null &&
      (error as Record<symbol, unknown>)[SE_ERROR_MARKER] === true
    );
  }
}

/** A message field that cannot be written to an event stream. Nothing was written. */
export class SseFormatError extends SeError {
  /** The offending field: `data`, `event`, `id`, `retry` or `comment`. */
  readonly field: string;
  /** The rule the value broke, in words. */
  readonly rule: string;

  constructor(
    field: string,
    rule: string,
    options?: { cause?: unknown; code?: "SE_ERR_INVALID_FIELD" | "SE_ERR_UNSERIALIZABLE_DATA" },
  ) {
    super(
      options?.code ?? "SE_ERR_INVALID_FIELD",
      `Invalid SSE field "${field}": ${rule}`,
      options,
    );
    this.name = "SseFormatError";
    this.field = field;
    this.rule = rule;
  }

  /** True for any format error, even one created by another copy of this package. */
  static override isInstance(error: unknown): error is SseFormatError {
    return SeError.isInstance(error) && error.name === "SseFormatError";
  }
}

/** An option passed to se is not valid. */
export class SeOptionError extends SeError {
  readonly option: string;
  constructor(option: string, rule: string, options?: { cause?: unknown }) {
    super("SE_ERR_INVALID_OPTION", `Invalid option "${option}": ${rule}`, options);
    this.name = "SeOptionError";
    this.option = option;
  }
}

/** Thrown when sending on a connection that has ended. */
export class ConnectionClosedError extends SeError {
  constructor(what = "connection") {
    super(
      "SE_ERR_CONNECTION_CLOSED",
      `Cannot send on a closed ${what}: the stream has ended (client gone or end() called). Check connection.closed or listen to connection.signal before sending.`,
    );
    this.name = "ConnectionClosedError";
  }
}

/**
 * A client's `Last-Event-ID` (header or `lastEventId` query parameter) that no se id can be:
 * too long, or with characters outside printable ASCII. The message never contains the value.
 * An HTTP adapter answers it with a 4xx.
 */
export class InvalidLastEventIdError extends SeError {
  /** The rule the value broke, in words. */
  readonly rule: string;

  constructor(rule: string) {
    super("SE_ERR_INVALID_LAST_EVENT_ID", `Invalid Last-Event-ID: ${rule}`);
    this.name = "InvalidLastEventIdError";
    this.rule = rule;
  }

  /** True for this error, even one created by another copy of this package. */
  static override isInstance(error: unknown): error is InvalidLastEventIdError {
    return SeError.isInstance(error) && error.name === "InvalidLastEventIdError";
  }
}

/**
 * A connect refused by a cap: `maxConnectionsPerSeid` (`limit: "seid"`, answer `429`) or
 * `maxConnections` (`limit: "instance"`, answer `503`). Nothing was opened; send
 * `Retry-After: retryAfterSeconds` with the refusal.
 */
export class ConnectionLimitError extends SeError {
  readonly limit: "seid" | "instance";
  /** How long the client should wait before it tries again (jittered), in seconds. */
  readonly retryAfterSeconds: number;
  /** The HTTP status that fits: 429 for a seid's cap, 503 for the instance's. */
  readonly status: 429 | 503;

  constructor(limit: "seid" | "instance", max: number, retryAfterSeconds: number) {
    super(
      "SE_ERR_CONNECTION_LIMIT",
      limit === "seid"
        ? `Connection refused: this seid already holds ${max} connections (maxConnectionsPerSeid).`
        : `Connection refused: this instance already holds ${max} connections (maxConnections).`,
    );
    this.name = "ConnectionLimitError";
    this.limit = limit;
    this.retryAfterSeconds = retryAfterSeconds;
    this.status = limit === "seid" ? 429 : 503;
  }

  /** True for this error, even one created by another copy of this package. */
  static override isInstance(error: unknown): error is ConnectionLimitError {
    return SeError.isInstance(error) && error.name === "ConnectionLimitError";
  }
}

/**
 * A connect of a seid whose streams `hub.disconnect(seid, { refuseReconnectMs })` ended less
 * than `refuseReconnectMs` ago. Nothing was opened. Answer `204 No Content`: an `EventSource`
 * that gets a 204 stops reconnecting (any non-200 answer does; 204 says it is on purpose).
 */
export class ReconnectRefusedError extends SeError {
  /** The HTTP status that fits. */
  readonly status = 204;

  constructor() {
    super(
      "SE_ERR_RECONNECT_REFUSED",
      "Connection refused: this seid was disconnected on purpose (hub.disconnect with refuseReconnectMs).",
    );
    this.name = "ReconnectRefusedError";
  }

  /** True for this error, even one created by another copy of this package. */
  static override isInstance(error: unknown): error is ReconnectRefusedError {
    return SeError.isInstance(error) && error.name === "ReconnectRefusedError";
  }
}
