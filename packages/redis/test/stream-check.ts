import type { Target } from "@se/core";
import { expect } from "vitest";
import type { FakeHub, RawEntry } from "./fake-receiver.js";

/** One send a test made, in the order it made them. */
export interface Sent {
  readonly origin: string;
  readonly data: string;
  readonly target: Target;
}

/** Sends through `hub` and writes the send to `log`. */
export function sendLogged(log: Sent[], hub: FakeHub, data: string, target: Target = ALL): void {
  log.push({ origin: hub.receiver.instanceId, data, target });
  hub.send(data, { target });
}

const ALL: Target = { kind: "all" };

/**
 * The delivery contract at the backplane: every hub delivered exactly the stream after the
 * position it started from (every entry once, in the one order), and every send that is not
 * in the stream is covered by a gap its instance wrote after its earlier sends, for its
 * target or for everyone.
 */
export function expectExactOrGap(
  hubs: readonly FakeHub[],
  stream: readonly RawEntry[],
  log: readonly Sent[],
): void {
  for (const hub of hubs) {
    const from = hub.receiver.seeks[0] as string;
    const after = stream.filter((entry) => entry.kind !== "o" && later(entry.position, from));
    expect(hub.receiver.positions).toEqual(after.map((entry) => entry.position));
  }
  const stored = new Map(stream.filter((e) => e.data !== undefined).map((e) => [e.data, e]));
  expect(stored.size).toBe(stream.filter((e) => e.kind === "e" || e.kind === "n").length);
  const lastStored = new Map<string, string>();
  for (const sent of log) {
    const entry = stored.get(sent.data);
    if (entry !== undefined) {
      lastStored.set(sent.origin, entry.position);
      continue;
    }
    const since = lastStored.get(sent.origin) ?? "0-0";
    const gap = stream.find(
      (e) =>
        e.kind === "g" &&
        e.origin === sent.origin &&
        later(e.position, since) &&
        (e.target?.kind === "all" || JSON.stringify(e.target) === JSON.stringify(sent.target)),
    );
    expect(gap, `a gap for the lost send ${sent.data}`).toBeDefined();
  }
}

function later(a: string, b: string): boolean {
  const [msA, seqA] = a.split("-").map(Number) as [number, number];
  const [msB, seqB] = b.split("-").map(Number) as [number, number];
  return msA > msB || (msA === msB && seqA > seqB);
}
