import { afterEach, describe, expect, it } from "vitest";
import { openEvents } from "./event-reader.js";
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

/** nginx cuts an upstream that sends nothing for this long. */
const READ_TIMEOUT_S = 2;

async function behindShortTimeout(heartbeatMs: number | false) {
  app = await startSseApp({ heartbeatMs });
  nginx = await startNginx(
    `location / { proxy_pass ${app.url}; proxy_read_timeout ${READ_TIMEOUT_S}s; }`,
  );
  const opened = await openEvents(`${nginx.url}/events?user=ada`);
  aborts.push(opened.abort);
  return { app, nginx, reader: opened.reader };
}

if (suiteCanRun("se behind nginx with a short proxy_read_timeout", [NGINX_NEED])) {
  describe(`se behind nginx with proxy_read_timeout ${READ_TIMEOUT_S}s`, () => {
    it("keeps a quiet stream open for several timeouts when the heartbeat is shorter", async () => {
      const { app, reader } = await behindShortTimeout(400);
      // Three read timeouts of silence but for the heartbeat comments.
      const until = Date.now() + 3 * READ_TIMEOUT_S * 1000 + 500;
      let heartbeats = 0;
      while (Date.now() < until) {
        const arrival = await reader.next(READ_TIMEOUT_S * 1000 + 2000);
        if (arrival.kind === "comment") heartbeats++;
      }
      expect(heartbeats).toBeGreaterThanOrEqual(3);
      expect(reader.done).toBe(false);
      // Still the same stream, still delivering.
      const { id } = app.app.se.broadcast({ event: "tick", data: "still here" });
      expect(await reader.nextEvent()).toMatchObject({ data: "still here", id });
      expect(app.app.se.stats().connections).toBe(1);
    });

    it("(control) is cut by nginx when the heartbeat is off", async () => {
      const { app, nginx, reader } = await behindShortTimeout(false);
      await reader.ended;
      expect(reader.done).toBe(true);
      expect(await nginx.errorLog()).toMatch(/upstream timed out/);
      await expect.poll(() => app.app.se.stats().connections, { timeout: 10_000 }).toBe(0);
    });
  });
}
