import { listen } from "./server.js";

const { port } = await listen(Number(process.env.PORT ?? 3003));
console.log(`Hono example on http://127.0.0.1:${port}/events?seid=alice`);
console.log(
  `send:  curl -X POST -H 'content-type: application/json' -d '{"text":"hi"}' http://127.0.0.1:${port}/send/alice`,
);
