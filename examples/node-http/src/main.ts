import { createEventServer } from "./server.js";

const port = Number(process.env.PORT ?? 3001);
const { server } = createEventServer();
server.listen(port, "127.0.0.1", () => {
  console.log(`node:http example on http://127.0.0.1:${port}/events?seid=alice`);
  console.log(`send:  curl -X POST -d hello http://127.0.0.1:${port}/send/alice`);
});
