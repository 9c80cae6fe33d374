import compress from "@fastify/compress";
import { afterEach, describe, expect, it } from "vitest";
import { openGzipAccepting } from "./gzip-stream.js";
import { type SseApp, startSseApp } from "./sse-app.js";

let app: SseApp | undefined;
const aborts: (() => void)[] = [];

afterEach(async () => {
  for (const abort of aborts.splice(0)) abort();
  await app?.close();
  app = undefined;
});

describe("@fastify/compress registered globally", () => {
  it("compresses a JSON route but leaves an se stream alone, each event at once", async () => {
    app = await startSseApp({ heartbeatMs: false }, async (fastify) => {
      await fastify.register(compress, { global: true, threshold: 0 });
      fastify.get("/data", async () => ({ items: Array.from({ length: 200 }, (_, i) => i) }));
    });

    const json = await fetch(`${app.url}/data`, { headers: { "accept-encoding": "gzip" } });
    expect(json.headers.get("content-encoding")).toBe("gzip"); // compress is active
    expect((await json.json()).items).toHaveLength(200);

    const { headers, reader, abort } = await openGzipAccepting(`${app.url}/events?user=ada`);
    aborts.push(abort);
    expect(headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(headers["content-encoding"]).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      const { id } = app.app.se.broadcast({ event: "tick", data: `tick ${i}` });
      expect(await reader.nextEvent()).toMatchObject({ event: "tick", data: `tick ${i}`, id });
    }
  });
});
