import type { AddressInfo } from "node:net";
import { SE } from "@se/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_NEED, launchChromium } from "./chromium.js";
import { recommendedLocation } from "./deploy-doc.js";
import { NGINX_NEED, startNginx } from "./nginx.js";
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

/**
 * A Fastify app serving the page and greeting each stream: over TLS with HTTP/2 (and HTTP/1.1
 * fallback), over TLS with HTTP/1.1 only, or plain HTTP (behind nginx).
 */
async function startPageApp(mode: "h2" | "tls-http1" | "plain") {
  let app: FastifyInstance;
  if (mode === "h2") {
    const https = { ...selfSignedCert(), allowHTTP1: true };
    app = Fastify({ http2: true, https }) as unknown as FastifyInstance;
  } else if (mode === "tls-http1") {
    app = Fastify({ https: selfSignedCert() }) as unknown as FastifyInstance;
  } else {
    app = Fastify();
  }
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
  const scheme = mode === "plain" ? "http" : "https";
  const url = `${scheme}://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
  return { app, url, versions, sockets };
}

/** Registers hooks for one Chromium per suite and a fresh context per test; `load` opens a page. */
function useChromium() {
  let browser: Browser | undefined;
  let page: Page | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());
  afterEach(async () => {
    await page?.context().close();
    page = undefined;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    /** Closed after the test, after the page. */
    later(cleanup: () => Promise<void>): void {
      cleanups.push(cleanup);
    },
    async load(url: string): Promise<Page> {
      if (!browser) throw new Error("Chromium did not start");
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      page = await context.newPage();
      await page.goto(url);
      return page;
    },
  };
}

const welcomed = (page: Page) =>
  page.evaluate(() => (window as { welcomed?: number[] }).welcomed?.length);

if (suiteCanRun("EventSources in Chromium over TLS", [CHROMIUM_NEED, OPENSSL_NEED])) {
  describe(`${SOURCES} EventSources on one origin in Chromium over TLS`, () => {
    const chromium = useChromium();

    it("all connect over HTTP/2, on one connection", async () => {
      const { app, url, versions, sockets } = await startPageApp("h2");
      chromium.later(() => app.close());
      const page = await chromium.load(url);
      await expect.poll(() => welcomed(page), WAIT).toBe(SOURCES);
      expect(app.se.stats().connections).toBe(SOURCES);
      expect(versions).toEqual(Array(SOURCES).fill("2.0"));
      expect(sockets.size).toBe(1);
      // Every stream still carries events.
      app.se.broadcast({ event: "welcome", data: "again" });
      await expect.poll(() => welcomed(page), WAIT).toBe(2 * SOURCES);
    });

    it("only six connect over HTTP/1.1 (the browser's per-host limit); the rest wait", async () => {
      const { app, url, versions } = await startPageApp("tls-http1");
      chromium.later(() => app.close());
      const page = await chromium.load(url);
      await expect.poll(() => welcomed(page), WAIT).toBe(6);
      expect(app.se.stats().connections).toBe(6);
      // The other four stay pending while the six streams hold every connection.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await welcomed(page)).toBe(6);
      expect(app.se.stats().connections).toBe(6);
      expect(versions).toEqual(Array(6).fill("1.1"));
      // Ending one stream frees its connection, and a waiting EventSource takes it.
      const [first] = [...app.se.clients.values()];
      for (const connection of first ?? []) connection.close();
      await expect.poll(() => welcomed(page), WAIT).toBe(7);
    });
  });
}

if (
  suiteCanRun("EventSources in Chromium through nginx over HTTP/2", [
    CHROMIUM_NEED,
    OPENSSL_NEED,
    NGINX_NEED,
  ])
) {
  describe(`${SOURCES} EventSources in Chromium through nginx (TLS, HTTP/2) to an HTTP/1.1 app`, () => {
    const chromium = useChromium();

    it("all connect with the recommended location block", async () => {
      const { app, url, versions } = await startPageApp("plain");
      chromium.later(() => app.close());
      const upstream = url.replace(/\/$/, "");
      const nginx = await startNginx(
        `location / { proxy_pass ${upstream}; }\n${recommendedLocation(upstream)}`,
        { tls: selfSignedCert() },
      );
      chromium.later(() => nginx.stop());
      const page = await chromium.load(`${nginx.url}/`);
      expect(
        await page.evaluate(
          () => performance.getEntriesByType("navigation")[0]?.toJSON().nextHopProtocol,
        ),
      ).toBe("h2");
      await expect.poll(() => welcomed(page), WAIT).toBe(SOURCES);
      expect(app.se.stats().connections).toBe(SOURCES);
      // nginx speaks HTTP/1.1 to the app (proxy_http_version 1.1): one upstream connection each.
      expect(versions).toEqual(Array(SOURCES).fill("1.1"));
      app.se.broadcast({ event: "welcome", data: "again" });
      await expect.poll(() => welcomed(page), WAIT).toBe(2 * SOURCES);
    });
  });
}
