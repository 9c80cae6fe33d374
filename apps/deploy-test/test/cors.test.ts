import cors, { type FastifyCorsOptions } from "@fastify/cors";
import { afterEach, describe, expect, it } from "vitest";
import { openEvents } from "./event-reader.js";
import { type SseApp, startSseApp } from "./sse-app.js";

const ORIGIN = "https://app.example";

let app: SseApp | undefined;
const aborts: (() => void)[] = [];

afterEach(async () => {
  for (const abort of aborts.splice(0)) abort();
  await app?.close();
  app = undefined;
});

async function withCors(hook: FastifyCorsOptions["hook"]): Promise<SseApp> {
  app = await startSseApp({ heartbeatMs: false }, async (fastify) => {
    await fastify.register(cors, { origin: ORIGIN, credentials: true, hook });
    fastify.get("/data", async () => ({ ok: true }));
  });
  return app;
}

async function streamHeaders(sse: SseApp): Promise<Headers> {
  const { response, reader, abort } = await openEvents(`${sse.url}/events?user=ada`, {
    headers: { origin: ORIGIN },
  });
  aborts.push(abort);
  const { id } = sse.app.se.broadcast({ data: "hi" });
  expect(await reader.nextEvent()).toMatchObject({ data: "hi", id }); // it is a live stream
  return response.headers;
}

describe("@fastify/cors and se streams", () => {
  it.each(["onRequest", "preParsing", "preValidation", "preHandler"] as const)(
    "with hook %s, the stream carries the CORS headers",
    async (hook) => {
      const headers = await streamHeaders(await withCors(hook));
      expect(headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(headers.get("access-control-allow-credentials")).toBe("true");
    },
  );

  it("with hook preSerialization, the stream has none (a JSON route still has them)", async () => {
    const sse = await withCors("preSerialization");
    const json = await fetch(`${sse.url}/data`, { headers: { origin: ORIGIN } });
    expect(json.headers.get("access-control-allow-origin")).toBe(ORIGIN); // cors is active
    const headers = await streamHeaders(sse);
    expect(headers.get("access-control-allow-origin")).toBeNull();
    expect(headers.get("access-control-allow-credentials")).toBeNull();
  });
});
