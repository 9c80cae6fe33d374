import { SseFormatError } from "./errors.js";
import { describeCharAt, indexOfNonPrintableAscii, MAX_ID_LENGTH } from "./limits.js";

/** One event as the WHATWG `text/event-stream` format sees it. */
export interface EventMessage<TData = unknown> {
  /** Strings are sent as-is (split on CR, LF, CRLF); anything else goes through the serializer. */
  data?: TData;
  /** Event type; must not contain CR or LF. `""` means the default `message` type. */
  event?: string;
  /**
   * Last-event id: printable ASCII (0x20–0x7E) without a leading or trailing space, at most 256
   * characters (`MAX_ID_LENGTH`), so that it comes back unchanged in `Last-Event-ID`; or a finite
   * number. `""` resets the client's last event id.
   */
  id?: string | number;
  /** Reconnection time in ms advertised to the client; a non-negative safe integer. */
  retry?: number;
  /** A comment line (ignored by clients); must not contain CR or LF. */
  comment?: string;
}

/** Turns non-string `data` into a string. Must return a string or throw. */
export type Serializer = (data: unknown) => string;

/** `JSON.stringify` as it was when this module loaded. */
const builtinStringify = JSON.stringify;

/** The default serializer: `JSON.stringify`, with a clear error for values JSON cannot carry. */
export const jsonSerializer: Serializer = (data) => {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (cause) {
    throw new SseFormatError("data", `cannot be serialized as JSON (${(cause as Error).message})`, {
      cause,
      code: "SE_ERR_UNSERIALIZABLE_DATA",
    });
  }
  if (typeof text !== "string") {
    throw new SseFormatError("data", `${typeof data} cannot be serialized as JSON`, {
      code: "SE_ERR_UNSERIALIZABLE_DATA",
    });
  }
  return text;
};

const LINE_BREAK = /\r\n|\r|\n/g;

function hasLineBreak(text: string): boolean {
  return text.indexOf("\n") !== -1 || text.indexOf("\r") !== -1;
}

/** Formats `data` as one `data:` line per line of its text. */
function dataLines(data: unknown, serializer: Serializer): string {
  const text = serializeData(data, serializer);
  // JSON.stringify escapes CR and LF inside strings and adds no whitespace without its `space`
  // argument: the default serializer's output is always one line, so it needs no scan.
  const oneLine =
    typeof data !== "string" &&
    serializer === jsonSerializer &&
    JSON.stringify === builtinStringify;
  if (oneLine || !hasLineBreak(text)) return `data: ${text}\n`;
  return `data: ${text.replace(LINE_BREAK, "\ndata: ")}\n`;
}

/** Serializes `data` to the text that goes on the wire. */
export function serializeData(data: unknown, serializer: Serializer = jsonSerializer): string {
  if (typeof data === "string") return data;
  const text = serializer(data);
  if (typeof text !== "string") {
    throw new SseFormatError("data", "the serializer must return a string", {
      code: "SE_ERR_UNSERIALIZABLE_DATA",
    });
  }
  return text;
}

function checkSingleLine(field: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new SseFormatError(field, `must be a string, got ${describe(value)}`);
  }
  if (hasLineBreak(value)) {
    throw new SseFormatError(field, "must not contain CR or LF");
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return `number ${value}`;
  return typeof value;
}

/**
 * Validates an `id` value and returns it as the string that will be written. Ids are kept to
 * what the `Last-Event-ID` header brings back unchanged: a client sends non-ASCII as UTF-8 bytes
 * that a server reads as Latin-1, and HTTP trims spaces at either end.
 *
 * @throws {SseFormatError} (`field: "id"`) for a string with a character outside printable ASCII
 * (0x20–0x7E), a space at either end or more than {@link MAX_ID_LENGTH} characters, or a number
 * that is not finite.
 */
export function checkId(id: string | number): string {
  if (typeof id === "number") {
    if (!Number.isFinite(id)) throw new SseFormatError("id", `must be a finite number, got ${id}`);
    return String(id);
  }
  if (typeof id === "string" && id.length <= MAX_ID_LENGTH && ROUND_TRIP_ID.test(id)) return id;
  throw new SseFormatError("id", idRule(id));
}

/** Printable ASCII, no space at either end (or empty). One regex test: the per-send path. */
const ROUND_TRIP_ID = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

/** The rule an id that failed {@link ROUND_TRIP_ID} or the length breaks, naming what was found. */
function idRule(id: unknown): string {
  if (typeof id !== "string") return `must be a string or a finite number, got ${describe(id)}`;
  if (id.length > MAX_ID_LENGTH) {
    return `must be at most ${MAX_ID_LENGTH} characters long, got ${id.length}`;
  }
  const bad = indexOfNonPrintableAscii(id);
  if (bad !== -1) {
    return `must be printable ASCII (0x20-0x7E) to come back unchanged in Last-Event-ID, found ${describeCharAt(id, bad)}`;
  }
  return "must not start or end with a space (HTTP trims them from Last-Event-ID)";
}

/** Validates a `retry` value. */
export function checkRetry(retry: unknown): number {
  if (typeof retry !== "number" || !Number.isSafeInteger(retry) || retry < 0) {
    throw new SseFormatError(
      "retry",
      `must be a non-negative safe integer, got ${describe(retry)}`,
    );
  }
  return retry;
}

/**
 * Formats one complete event frame (ending with exactly one blank line).
 * Nothing is returned for invalid input: an {@link SseFormatError} is thrown instead.
 *
 * @throws {SseFormatError} when `id`, `event`, `comment` or `retry` break their rules (see
 * {@link checkId} for ids), or `data` cannot be serialized.
 * @example formatEvent({ event: "greeting", data: "hello\nworld" })
 * // "event: greeting\ndata: hello\ndata: world\n\n"
 */
export function formatEvent(
  message: EventMessage,
  serializer: Serializer = jsonSerializer,
): string {
  if (typeof message !== "object" || message === null) {
    throw new SseFormatError("message", `must be an object, got ${describe(message)}`);
  }
  const id = message.id;
  return formatFrame(message, id === undefined ? undefined : checkId(id), serializer);
}

/**
 * {@link formatEvent} with the id already checked (or generated): the hub's path.
 * @internal
 */
export function formatFrame(
  message: EventMessage,
  id: string | undefined,
  serializer: Serializer,
): string {
  const data = message.data;
  // Fast path: one line of string data and nothing else (the common broadcast).
  if (
    typeof data === "string" &&
    id === undefined &&
    message.event === undefined &&
    message.retry === undefined &&
    message.comment === undefined &&
    !hasLineBreak(data)
  ) {
    return `data: ${data}\n\n`;
  }
  const { event, retry, comment } = message;
  let frame = "";
  if (comment !== undefined) frame += `: ${checkSingleLine("comment", comment)}\n`;
  if (event !== undefined) frame += `event: ${checkSingleLine("event", event)}\n`;
  if (id !== undefined) frame += `id: ${id}\n`;
  if (retry !== undefined) frame += `retry: ${checkRetry(retry)}\n`;
  if (data !== undefined) frame += dataLines(data, serializer);
  if (frame === "") {
    throw new SseFormatError(
      "message",
      "must have at least one of data, event, id, retry, comment",
    );
  }
  return `${frame}\n`;
}

/**
 * Formats a comment frame, e.g. for heartbeats. Comments are ignored by clients.
 *
 * @throws {SseFormatError} when `text` contains CR or LF (comments are never split).
 * @example formatComment("keep-alive") // ": keep-alive\n\n"
 */
export function formatComment(text = ""): string {
  const value = checkSingleLine("comment", text);
  return value === "" ? ":\n\n" : `: ${value}\n\n`;
}
