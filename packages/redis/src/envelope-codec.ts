import type { Envelope, Target } from "@se/core";

/** Writes an envelope as one pub/sub message. @internal */
export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelope);
}

/** Reads a pub/sub message back, or `undefined` when it is not an envelope. @internal */
export function decodeEnvelope(message: string): Envelope | undefined {
  let value: Partial<Record<keyof Envelope, unknown>>;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { origin, target, frame, id } = value;
  if (typeof origin !== "string" || typeof frame !== "string" || !isTarget(target)) {
    return undefined;
  }
  if (id === undefined) return { origin, target, frame };
  return typeof id === "string" ? { origin, target, frame, id } : undefined;
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
