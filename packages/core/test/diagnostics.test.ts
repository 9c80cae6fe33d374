import diagnosticsChannel from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import { DIAGNOSTICS_CHANNELS, EventHub } from "../src/index.js";
import { readStream, type StreamReader, until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Records what each se channel publishes for `hub` (other hubs of the process are ignored). */
function listen(hub: EventHub): Array<[string, Record<string, unknown>]> {
  const seen: Array<[string, Record<string, unknown>]> = [];
  for (const name of DIAGNOSTICS_CHANNELS) {
    const onMessage = (message: unknown) => {
      const record = message as Record<string, unknown>;
      if (record.hub === hub) seen.push([name, record]);
    };
    diagnosticsChannel.subscribe(name, onMessage);
    cleanups.push(() => diagnosticsChannel.unsubscribe(name, onMessage));
  }
  return seen;
}

describe("node:diagnostics_channel", () => {
  it("publishes connect, replay, reset, refused, disconnect with a reason, and errors", async () => {
    const hub = new EventHub({ retry: false, heartbeatMs: false, maxConnections: 2 });
    hub.on("error", () => {});
    cleanups.push(() => hub.close());
    const seen = listen(hub);
    const readers: StreamReader[] = [];
    const first = readStream(hub, { seid: "a" });
    readers.push(first);
    const id = hub.broadcast({ data: "one" }).id as string;
    hub.broadcast({ data: "two" });
    const back = readStream(hub, { seid: "a", lastEventId: id });
    readers.push(back);
    expect(() => readStream(hub, { seid: "c" })).toThrow(/maxConnections/);
    await first.cancel();
    const stale = readStream(hub, { seid: "b", lastEventId: "gone" });
    readers.push(stale);
    hub.reportError(new Error("backplane down"));
    await until(() => seen.some(([name]) => name === "se:disconnect"), "a disconnect");
    const names = seen.map(([name]) => name);
    expect(names).toEqual([
      "se:connect",
      "se:replay",
      "se:connect",
      "se:refused",
      "se:disconnect",
      "se:reset",
      "se:connect",
      "se:error",
    ]);
    const byName = (name: string) => seen.find(([n]) => n === name)?.[1];
    expect(byName("se:replay")).toMatchObject({ events: 1 });
    expect(byName("se:refused")).toMatchObject({ limit: "instance" });
    expect(byName("se:disconnect")).toMatchObject({ reason: "client-gone" });
    expect(byName("se:reset")).toMatchObject({ reason: "history-gap" });
    expect(byName("se:error")?.error).toMatchObject({ message: "backplane down" });
    for (const reader of readers.slice(1)) await reader.cancel();
  });
});
