import { InvalidLastEventIdError, SeOptionError } from "./errors.js";

/**
 * Longest event id a caller may give, in characters. Ids are printable ASCII, so this is also
 * their length in bytes on the wire and in the `Last-Event-ID` header.
 */
export const MAX_ID_LENGTH = 256;

/** Longest seid or topic, in UTF-16 code units (`string.length`). */
export const MAX_NAME_LENGTH = 256;

/**
 * Longest `Last-Event-ID` (header or `lastEventId` query parameter) accepted from a client.
 * Twice {@link MAX_ID_LENGTH}: room for the ids se makes itself around a caller's.
 */
export const MAX_LAST_EVENT_ID_LENGTH = 512;

/**
 * The index of the first character outside printable ASCII (0x20–0x7E), or -1.
 * @internal
 */
export function indexOfNonPrintableAscii(text: string): number {
  return text.search(NON_PRINTABLE_ASCII);
}

const NON_PRINTABLE_ASCII = /[^\x20-\x7e]/;

const CHAR_NAMES: Record<number, string> = { 0: "NUL", 9: "TAB", 10: "LF", 13: "CR" };

/**
 * Names the character at `index` without quoting the text around it, e.g. `LF (U+000A) at index 3`.
 * @internal
 */
export function describeCharAt(text: string, index: number): string {
  const code = text.codePointAt(index) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  const name = CHAR_NAMES[code];
  return `${name === undefined ? hex : `${name} (${hex})`} at index ${index}`;
}

/**
 * Validates a seid or a topic: a non-empty string of at most {@link MAX_NAME_LENGTH} characters.
 * The error never contains the value, only its length.
 *
 * @throws {SeOptionError} naming `field` and the rule.
 * @example checkName("topic", "news") // "news"
 */
export function checkName(field: "seid" | "topic", value: unknown): string {
  if (typeof value !== "string" || value === "") {
    const got = typeof value === "string" ? '""' : value === null ? "null" : typeof value;
    throw new SeOptionError(field, `must be a non-empty string, got ${got}`);
  }
  if (value.length > MAX_NAME_LENGTH) {
    throw new SeOptionError(
      field,
      `must be at most ${MAX_NAME_LENGTH} characters long, got ${value.length}`,
    );
  }
  return value;
}

/**
 * Validates the `Last-Event-ID` a client sent (see `readLastEventId`). Every id se writes is
 * printable ASCII of at most {@link MAX_ID_LENGTH} characters, so a longer value, or one with
 * other characters (for example the UTF-8 bytes of a non-ASCII id, which Node reads as Latin-1),
 * cannot name one of its events and is refused rather than treated as unknown.
 *
 * @returns the id to replay from, or `undefined` when there is nothing to replay (`undefined`,
 * `null` or `""`).
 * @throws {InvalidLastEventIdError} when the value is longer than
 * {@link MAX_LAST_EVENT_ID_LENGTH} or has a character outside 0x20–0x7E. Its message never
 * contains the value.
 */
export function checkLastEventId(value: string | null | undefined): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw new InvalidLastEventIdError(`must be a string, got ${typeof value}`);
  }
  if (value.length > MAX_LAST_EVENT_ID_LENGTH) {
    throw new InvalidLastEventIdError(
      `must be at most ${MAX_LAST_EVENT_ID_LENGTH} characters long, got ${value.length}`,
    );
  }
  const bad = indexOfNonPrintableAscii(value);
  if (bad !== -1) {
    throw new InvalidLastEventIdError(
      `must be printable ASCII (0x20-0x7E), found ${describeCharAt(value, bad)}`,
    );
  }
  return value;
}
