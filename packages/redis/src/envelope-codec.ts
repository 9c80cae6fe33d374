import type { Envelope, HistoryEntry, Target } from "@se/core";
import { streamIdTime } from "./stream-id.js";

/**
 * What a stream entry is (its `k` field):
 * - `e`: a shared event with a wire id (replayable);
 * - `n`: a shared event without one (delivered live, never replayed);
 * - `g`: a gap: events for its target may be missing here (an outage);
 * - `o`: the origin marker written into an empty stream, so every position is a real entry;
 * - `d`: a disconnect request (`hub.disconnect`): streams of its target end, after its frame.
 *   Never replayed.
 * @internal
 */
export type EntryKind = "e" | "n" | "g" | "o" | "d";

/** One stream entry as Redis holds it: `k` (kind) and `p` (the JSON payload). @internal */
export interface EntryFields {
  readonly kind: EntryKind;
  readonly payload: string;
}

/** A stream entry, decoded. `frame` is complete (with its `id:` line); `id` is the wire id. @internal */
export interface StreamEntry {
  readonly position: string;
  readonly kind: EntryKind;
  readonly origin: string;
  /** Absent on the origin marker only. */
  readonly target?: Target;
  readonly frame: string;
  readonly id?: string;
  /** A disconnect request (`d`): how long to refuse reconnects. */
  readonly refuseReconnectMs?: number;
}

interface Payload {
  /** origin */
  o?: unknown;
  /** target */
  t?: unknown;
  /** frame without its id line */
  f?: unknown;
  /** the caller's id */
  i?: unknown;
  /** 1: the position is the id when the caller gave none */
  a?: unknown;
  /** a disconnect request's refuseReconnectMs */
  r?: unknown;
}

/** The fields of a shared send, from an ordered publish (`frame` without its id line). @internal */
export function eventFields(envelope: Envelope): EntryFields {
  const { origin, target, frame, id, autoId } = envelope;
  const payload: Payload = { o: origin, t: target, f: frame };
  if (envelope.disconnect !== undefined) {
    payload.r = envelope.disconnect.refuseReconnectMs;
    return { kind: "d", payload: JSON.stringify(payload) };
  }
  if (id !== undefined) payload.i = id;
  if (autoId === true) payload.a = 1;
  return {
    kind: id !== undefined || autoId === true ? "e" : "n",
    payload: JSON.stringify(payload),
  };
}

/** The fields of a gap entry for `target`. @internal */
export function gapFields(origin: string, target: Target): EntryFields {
  return { kind: "g", payload: JSON.stringify({ o: origin, t: target }) };
}

/** The fields of the origin marker. @internal */
export function originFields(origin: string): EntryFields {
  return { kind: "o", payload: JSON.stringify({ o: origin }) };
}

/** Reads an entry back, or `undefined` when it is not one se wrote. @internal */
export function decodeEntry(
  position: string,
  kind: string,
  payload: string,
): StreamEntry | undefined {
  let value: Payload;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || typeof value.o !== "string") return undefined;
  const origin = value.o;
  if (kind === "o") return { position, kind, origin, frame: "" };
  if (!isTarget(value.t)) return undefined;
  const target = value.t;
  if (kind === "g") return { position, kind, origin, target, frame: "" };
  if (kind === "d") {
    if (typeof value.f !== "string" || typeof value.r !== "number" || !(value.r >= 0)) {
      return undefined;
    }
    return { position, kind, origin, target, frame: value.f, refuseReconnectMs: value.r };
  }
  if ((kind !== "e" && kind !== "n") || typeof value.f !== "string") return undefined;
  if (value.i !== undefined && typeof value.i !== "string") return undefined;
  const id = value.i ?? (value.a === 1 ? position : undefined);
  if (id === undefined) return { position, kind, origin, target, frame: value.f };
  return { position, kind, origin, target, frame: `id: ${id}\n${value.f}`, id };
}

/** What the hub receives for an entry; `undefined` for the origin marker. @internal */
export function toEnvelope(entry: StreamEntry): Envelope | undefined {
  const { origin, target, frame, id, position } = entry;
  if (target === undefined) return undefined;
  if (entry.kind === "g") return { origin, target, frame: "", position, gap: true };
  if (entry.kind === "d") {
    const refuseReconnectMs = entry.refuseReconnectMs ?? 0;
    return { origin, target, frame, position, disconnect: { refuseReconnectMs } };
  }
  return id === undefined
    ? { origin, target, frame, position }
    : { origin, target, frame, id, position };
}

/** The entry as kept for replay; `undefined` for the origin marker. @internal */
export function toHistoryEntry(entry: StreamEntry): HistoryEntry | undefined {
  const { target, frame, position } = entry;
  if (target === undefined || entry.kind === "d") return undefined;
  const time = streamIdTime(position);
  if (entry.kind === "g") return { id: undefined, position, target, frame: "", time, gap: true };
  return { id: entry.id, position, target, frame, time };
}

/** A pub/sub message: `<prev> <position> <kind> <payload>`, as the append script publishes it. @internal */
export interface PublishedEntry {
  /** The position of the entry before this one in the stream (`0-0` for the first). */
  readonly prev: string;
  readonly position: string;
  readonly kind: string;
  readonly payload: string;
}

/** Splits a pub/sub message, or `undefined` when it is not one se published. @internal */
export function decodeMessage(message: string): PublishedEntry | undefined {
  const first = message.indexOf(" ");
  const second = message.indexOf(" ", first + 1);
  const third = message.indexOf(" ", second + 1);
  if (first === -1 || second === -1 || third === -1) return undefined;
  return {
    prev: message.slice(0, first),
    position: message.slice(first + 1, second),
    kind: message.slice(second + 1, third),
    payload: message.slice(third + 1),
  };
}

/** Whether `value` is a {@link Target} another instance can address. @internal */
export function isTarget(value: unknown): value is Target {
  if (typeof value !== "object" || value === null) return false;
  const target = value as Record<string, unknown>;
  switch (target.kind) {
    case "all":
      return true;
    case "seid":
      return typeof target.seid === "string";
    case "topic":
      return typeof target.topic === "string";
    default:
      return false;
  }
}
