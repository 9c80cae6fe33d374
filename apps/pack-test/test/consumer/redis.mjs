// Runs in the fresh project: one event crosses two hubs through @se/redis and a real Redis,
// the way two instances of a user's app would share it. Arguments: <redis url> <key prefix>.
import { createServer } from "node:http";
import { EventHub } from "@se/core";
import { openEventStream } from "@se/core/node";
import { redisBackplane } from "@se/redis";

const [url, prefix] = process.argv.slice(2);
const options = { autoGenerateId: false, heartbeatMs: false };
const hubA = new EventHub({ ...options, backplane: redisBackplane({ url, prefix }) });
const hubB = new EventHub({ ...options, backplane: redisBackplane({ url, prefix }) });
await Promise.all([hubA.ready(), hubB.ready()]);

// The client connects to instance B; instance A sends to its seid.
const server = createServer((req, res) => {
  openEventStream(hubB, req, res, { seid: "alice" });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

const controller = new AbortController();
const response = await fetch(`http://127.0.0.1:${server.address().port}/`, {
  signal: controller.signal,
});
const reader = response.body.getReader();
const decoder = new TextDecoder();
let text = "";
let sent = false;
while (!text.includes("data: ")) {
  if (!sent && hubB.stats().clients === 1) {
    hubA.send("alice", { event: "greeting", data: "from instance A" });
    sent = true;
  }
  const { done, value } = await reader.read();
  if (done) break;
  text += decoder.decode(value, { stream: true });
}
controller.abort();
await Promise.all([hubA.close(), hubB.close()]);
server.closeAllConnections();
server.close();

console.log(JSON.stringify({ type: response.headers.get("content-type"), text }));
