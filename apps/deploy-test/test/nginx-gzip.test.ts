import { afterEach, describe, expect, it } from "vitest";
import { openGzipAccepting } from "./gzip-stream.js";
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

const GZIP = "gzip on; gzip_types text/event-stream; gzip_min_length 0;";

if (suiteCanRun("se behind nginx with gzip", [NGINX_NEED])) {
  describe("se behind nginx with gzip on for text/event-stream", () => {
    it.each([
      ["default proxy settings", ""],
      ["proxy_buffering off", "proxy_buffering off;"],
    ])("compresses the stream and still flushes each event (%s)", async (_name, directives) => {
      app = await startSseApp({ heartbeatMs: false });
      nginx = await startNginx(`location / { proxy_pass ${app.url}; ${directives} }`, {
        http: GZIP,
      });
      const { headers, reader, abort } = await openGzipAccepting(`${nginx.url}/events?user=ada`);
      aborts.push(abort);
      expect(headers["content-encoding"]).toBe("gzip");
      for (let i = 0; i < 5; i++) {
        const { id } = app.app.se.broadcast({ event: "tick", data: `tick ${i}` });
        expect(await reader.nextEvent()).toMatchObject({ event: "tick", data: `tick ${i}`, id });
      }
    });
  });
}
