import { SeOptionError } from "@se/core";

/** `value`, or `fallback` when undefined. @throws {SeOptionError} naming `name` unless a positive integer. @internal */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new SeOptionError(name, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}
