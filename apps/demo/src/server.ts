import type { Backplane } from "@se/core";
import { buildApp } from "./app.js";
import { loadRedisBackplane } from "./redis-backplane.js";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";

let backplane: Backplane | undefined;
if (process.env.REDIS_URL) backplane = await loadRedisBackplane(process.env.REDIS_URL);

const app = await buildApp(backplane === undefined ? {} : { backplane });
await app.listen({ port, host });
const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
console.log(`\n  se demo is live:  http://${shown}:${port}\n  Ctrl-C to stop.\n`);

let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "closing");
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, "close failed");
        process.exit(1);
      },
    );
  });
}
