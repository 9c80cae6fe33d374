import { collectDefaultMetrics, Registry } from "prom-client";
import { buildApp } from "./server.js";

const port = Number(process.env.PORT ?? 3004);
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const { app } = await buildApp({}, registry);
await app.listen({ port, host: "127.0.0.1" });
console.log(`Prometheus example on http://127.0.0.1:${port}/events?seid=alice`);
console.log(`metrics:   curl http://127.0.0.1:${port}/metrics`);
console.log(
  `broadcast: curl -X POST -H 'content-type: application/json' -d '{"text":"hi"}' http://127.0.0.1:${port}/broadcast`,
);
