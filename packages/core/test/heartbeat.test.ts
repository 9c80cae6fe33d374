import { afterEach, describe, expect, it, vi } from "vitest";
import { EventHub } from "../src/index.js";
import { openEventStream } from "../src/node/index.js";
import { readBody, readStream, startServer, until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("heartbeats", () => {
  it("an idle stream over node:http receives ':' comment frames", async () => {
    const hub = new EventHub({ heartbeatMs: 50, retry: false });
    cleanups.push(() => hub.close());
    const server = await startServer((req, res) => {
      openEventStream(hub, req, res);
    });
    cleanups.push(() => server.close());
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const body = readBody(await fetch(server.url, { signal: controller.signal }));
    await until(() => body.comments.length >= 2, "two heartbeats");
    expect(body.events).toEqual([]);
    expect(body.text).toMatch(/^(:\n\n)+$/);
  });

  it("an idle stream gets one heartbeat every interval; an active one gets none", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const hub = new EventHub({ heartbeatMs: 50, retry: false, autoGenerateId: false });
    cleanups.push(() => hub.close());
    const idle = readStream(hub);
    const active = readStream(hub);
    cleanups.push(
      () => idle.cancel(),
      () => active.cancel(),
    );
    for (let i = 0; i < 4; i++) {
      active.connection.send({ data: String(i) });
      await vi.advanceTimersByTimeAsync(50);
    }
    await until(() => idle.comments.length === 4 && active.events.length === 4, "frames");
    expect(idle.text).toBe(":\n\n:\n\n:\n\n:\n\n");
    expect(active.text).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n");
    await vi.advanceTimersByTimeAsync(50); // first idle interval for `active`
    await until(() => active.comments.length === 1, "heartbeat once idle");
  });

  it("uses one unref'd timer, cleared when the last connection closes", async () => {
    const setSpy = vi.spyOn(globalThis, "setInterval");
    const clearSpy = vi.spyOn(globalThis, "clearInterval");
    const hub = new EventHub({ heartbeatMs: 50 });
    cleanups.push(() => hub.close());
    const a = readStream(hub);
    const b = readStream(hub);
    expect(setSpy).toHaveBeenCalledTimes(1);
    const timer = setSpy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    await a.cancel();
    expect(clearSpy).not.toHaveBeenCalledWith(timer);
    await b.cancel();
    expect(hub.size).toBe(0);
    expect(clearSpy).toHaveBeenCalledWith(timer);
    const c = readStream(hub);
    cleanups.push(() => c.cancel());
    expect(setSpy).toHaveBeenCalledTimes(2);
  });
});
