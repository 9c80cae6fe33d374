import { afterEach, describe, expect, it } from "vitest";
import { recommendedLocation } from "./deploy-doc.js";
import { EventReader, openEvents } from "./event-reader.js";
import { NGINX_NEED, type Nginx, startNginx } from "./nginx.js";
import { type SseApp, startSseApp } from "./sse-app.js";
import { suiteCanRun } from "./suite-needs.js";

let app: SseApp | undefined;
let nginx: Nginx | undefined;
const aborts: (() => void)[] = [];

afterEach(async () => {
  for (const abort of aborts.splice(0)) abort();
  await nginx?.stop();
  await app?.close();
  nginx = undefined;
  app = undefined;
});

async function behind(
  location: (upstream: string) => string,
): Promise<{ app: SseApp; nginx: Nginx }> {
  app = await startSseApp({ heartbeatMs: false });
  nginx = await startNginx(location(app.url));
  return { app, nginx };
}

async function open(url: string, headers: Record<string, string> = {}) {
  const opened = await openEvents(url, { headers });
  aborts.push(opened.abort);
  return opened;
}

/** Broadcasts n events one by one; each must arrive before the next is sent. */
async function pingPong(sse: SseApp, reader: EventReader, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { id } = sse.app.se.broadcast({ event: "tick", data: `tick ${i}` });
    const event = await reader.nextEvent(5000);
    expect(event).toMatchObject({ event: "tick", data: `tick ${i}`, id });
    ids.push(event.id as string);
  }
  return ids;
}

const configs = {
  "default proxy settings (only proxy_pass)": (upstream: string) =>
    `location / { proxy_pass ${upstream}; }`,
  "the config docs/deploy.md recommends": (upstream: string) => recommendedLocation(upstream),
};

if (suiteCanRun("se behind nginx", [NGINX_NEED])) {
  describe.each(Object.entries(configs))("se behind nginx with %s", (_name, location) => {
    it("delivers each event before the next is sent", async () => {
      const { app, nginx } = await behind(location);
      const { response, reader } = await open(`${nginx.url}/events?user=ada`);
      expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      // se's header, which nginx consumes: it never reaches the client.
      expect(response.headers.get("x-accel-buffering")).toBeNull();
      await pingPong(app, reader, 5);
    });

    it("replays what a client missed when it reconnects with Last-Event-ID through nginx", async () => {
      const { app, nginx } = await behind(location);
      const first = await open(`${nginx.url}/events?user=bo`);
      const [lastId] = await pingPong(app, first.reader, 1);
      first.abort();
      await expect.poll(() => app.app.se.stats().connections, { timeout: 10_000 }).toBe(0);

      const missed = app.app.se.send("bo", { event: "dm", data: "while you were away" });
      const again = await open(`${nginx.url}/events?user=bo`, {
        "last-event-id": lastId as string,
      });
      expect(await again.reader.nextEvent()).toMatchObject({
        event: "dm",
        data: "while you were away",
        id: missed.id,
      });
    });

    it("lets the server see a client that leaves through nginx", async () => {
      const { app, nginx } = await behind(location);
      const { reader, abort } = await open(`${nginx.url}/events?user=cy`);
      await pingPong(app, reader, 1);
      expect(app.app.se.clients.has("cy")).toBe(true);
      abort();
      await expect.poll(() => app.app.se.clients.has("cy"), { timeout: 10_000 }).toBe(false);
      expect(app.app.se.stats().connections).toBe(0);
    });

    it("ends the client's stream when the server ends it", async () => {
      const { app, nginx } = await behind(location);
      const { reader } = await open(`${nginx.url}/events?user=di`);
      await pingPong(app, reader, 1);
      for (const connection of app.app.se.clients.get("di") ?? []) connection.close();
      await reader.ended;
      expect(reader.done).toBe(true);
    });
  });

  describe("what makes nginx's default buffering pass events at once", () => {
    it("is se's X-Accel-Buffering: no: with nginx told to ignore it, nothing reaches the client until the stream ends", async () => {
      const { app, nginx } = await behind(
        (upstream) =>
          `location / { proxy_pass ${upstream}; proxy_ignore_headers X-Accel-Buffering; }`,
      );
      const controller = new AbortController();
      aborts.push(() => controller.abort());
      const answered = fetch(`${nginx.url}/events?user=ed`, { signal: controller.signal });
      await expect.poll(() => app.app.se.clients.has("ed"), { timeout: 10_000 }).toBe(true);
      app.app.se.broadcast({ event: "tick", data: "held" });
      // Buffered: the headers, the retry and the event sit in nginx's buffer.
      const early = await Promise.race([
        answered.then(() => "answered"),
        new Promise((resolve) => setTimeout(resolve, 1500, "still waiting")),
      ]);
      expect(early).toBe("still waiting");
      for (const connection of app.app.se.clients.get("ed") ?? []) connection.close();
      // The end of the upstream response flushes the buffer: all of it arrives at once.
      const response = await answered;
      const reader = new EventReader(response.body as unknown as AsyncIterable<Uint8Array>);
      expect(await reader.nextEvent()).toMatchObject({ event: "tick", data: "held" });
      await reader.ended;
    });

    it("the recommended config does not depend on it: proxy_buffering off passes events at once anyway", async () => {
      const ignoring = (upstream: string) =>
        recommendedLocation(upstream).replace(
          /}\s*$/,
          "  proxy_ignore_headers X-Accel-Buffering;\n}\n",
        );
      expect(ignoring("http://x")).toMatch(
        /proxy_buffering off;[\s\S]*proxy_ignore_headers X-Accel-Buffering;\n}/,
      );
      const { app, nginx } = await behind(ignoring);
      const { reader } = await open(`${nginx.url}/events?user=fa`);
      await pingPong(app, reader, 3);
    });
  });
}
