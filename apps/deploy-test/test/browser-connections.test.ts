import type { AddressInfo } from "node:net";
import { SE } from "@se/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_NEED, launchChromium } from "./chromium.js";
import { suiteCanRun } from "./suite-needs.js";
import { OPENSSL_NEED, selfSignedCert } from "./tls-cert.js";

/** More EventSources on one origin than Chromium's six HTTP/1.1 connections per host. */
const SOURCES = 10;
const WAIT = { timeout: 15_000 };

const PAGE = `<!doctype html><meta charset="utf-8"><title>ten streams</title>
<script>
  window.welcomed = [];
  for (let i = 0; i < ${SOURCES}; i++) {
    new EventSource("/events?i=" + i).addEventListener("welcome", () => window.welcomed.push(i));
  }
</script>`;

/** A TLS Fastify app (HTTP/2 with HTTP/1.1 fallback, or HTTP/1.1 only) that greets each stream. */
async function startTlsApp(http2: boolean) {
  const https = selfSignedCert();
  const app: FastifyInstance = http2
    ? (Fastify({
        http2: true,
        https: { ...https, allowHTTP1: true },
      }) as unknown as FastifyInstance)
    : Fastify({ https });
  const versions: string[] = [];
  const sockets = new Set<unknown>();
  app.server.on("secureConnection", (socket) => sockets.add(socket));
  await app.register(new SE({ heartbeatMs: false }).plugin);
  app.get("/", (_request, reply) => reply.type("text/html").send(PAGE));
  app.get("/events", (request, reply) => {
    versions.push(request.raw.httpVersion);
    reply.sse.send({ event: "welcome", data: (request.query as { i: string }).i });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
  return { app, url, versions, sockets };
}

if (suiteCanRun("EventSources in Chromium over TLS", [CHROMIUM_NEED, OPENSSL_NEED])) {
  describe(`${SOURCES} EventSources on one origin in Chromium over TLS`, () => {
    let browser: Browser;
    let app: FastifyInstance | undefined;
    let page: Page | undefined;

    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(() => browser?.close());
    afterEach(async () => {
      await page?.context().close();
      await app?.close();
      page = undefined;
      app = undefined;
    });

    async function load(url: string): Promise<Page> {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      page = await context.newPage();
      await page.goto(url);
      return page;
    }

    const welcomed = (p: Page) =>
      p.evaluate(() => (window as { welcomed?: number[] }).welcomed?.length);

    it("all connect over HTTP/2, on one connection", async () => {
      const started = await startTlsApp(true);
      app = started.app;
      const p = await load(started.url);
      await expect.poll(() => welcomed(p), WAIT).toBe(SOURCES);
      expect(app.se.stats().connections).toBe(SOURCES);
      expect(started.versions).toEqual(Array(SOURCES).fill("2.0"));
      expect(started.sockets.size).toBe(1);
      // Every stream still carries events.
      app.se.broadcast({ event: "welcome", data: "again" });
      await expect.poll(() => welcomed(p), WAIT).toBe(2 * SOURCES);
    });

    it("only six connect over HTTP/1.1 (the browser's per-host limit); the rest wait", async () => {
      const started = await startTlsApp(false);
      app = started.app;
      const p = await load(started.url);
      await expect.poll(() => welcomed(p), WAIT).toBe(6);
      expect(app.se.stats().connections).toBe(6);
      // The other four stay pending while the six streams hold every connection.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await welcomed(p)).toBe(6);
      expect(app.se.stats().connections).toBe(6);
      expect(started.versions).toEqual(Array(6).fill("1.1"));
      // Ending one stream frees its connection, and a waiting EventSource takes it.
      const [first] = [...app.se.clients.values()];
      for (const connection of first ?? []) connection.close();
      await expect.poll(() => welcomed(p), WAIT).toBe(7);
    });
  });
}
