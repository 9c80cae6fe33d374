/**
 * One benchmark server in its own process: `server.ts <implementation> [args…]`. Reports its port to
 * the parent over IPC and exits when the parent goes away.
 */
import { IMPLEMENTATIONS, loadImpl, REDIS_IMPL, type ServerName } from "./implementations.js";

const name = process.argv[2] as ServerName;
if (name !== REDIS_IMPL && !IMPLEMENTATIONS.includes(name)) {
  console.error(`unknown implementation ${name}`);
  process.exit(2);
}
process.on("disconnect", () => process.exit(0));
// A clean exit on SIGTERM lets `--cpu-prof` (BENCH_SERVER_ARGS) write its profile.
process.on("SIGTERM", () => process.exit(0));
// Some peers add one "drain" listener per pending write; the warning says nothing about speed.
process.removeAllListeners("warning");
process.on("warning", () => {});

const impl = await loadImpl(name);
const server = await impl.start(process.argv.slice(3));
process.send?.({ type: "ready", port: server.port });
