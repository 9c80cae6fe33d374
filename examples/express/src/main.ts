import { listen } from "./server.js";

const port = Number(process.env.PORT ?? 3002);
await listen(port);
console.log(`Express example on http://127.0.0.1:${port}/events?seid=alice`);
console.log(
  `send:  curl -X POST -H 'content-type: application/json' -d '{"text":"hi"}' http://127.0.0.1:${port}/send/alice`,
);
