import { buildApp } from "./app.js";
import { connectRedis } from "./redis-backplane.js";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const redisUrl = process.env.REDIS_URL;

const sharing = redisUrl ? await connectRedis(redisUrl, process.env.REDIS_PREFIX) : undefined;
const app = await buildApp(sharing ?? {});

// Listening for signals before the URL is printed, so a Ctrl-C right after it closes cleanly.
// `on`, not `once`: Ctrl-C reaches this process both from the terminal and forwarded by the
// pnpm running it, and a second SIGINT without a listener would kill it mid-close.
let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
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

await app.listen({ port, host });
if (sharing) await app.se.hub.ready();

const address = app.server.address();
const actualPort = typeof address === "object" && address !== null ? address.port : port;
const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
const mode = sharing ? `  sharing events through Redis at ${redisUrl}\n` : "";
console.log(`\n  se demo is live:  http://${shown}:${actualPort}\n${mode}  Ctrl-C to stop.\n`);
