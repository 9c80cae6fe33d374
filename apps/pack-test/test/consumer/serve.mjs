// Runs in the fresh project: one event over real HTTP from @se/fastify and from @se/core/node.
import { createServer } from "node:http";
import { EventHub } from "@se/core";
import { openEventStream } from "@se/core/node";
import { SE } from "@se/fastify";
import Fastify from "fastify";

async function firstEvent(url) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("data: ")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  controller.abort();
  return { type: response.headers.get("content-type"), text };
}

const se = new SE({ autoGenerateId: false, heartbeatMs: false });
const app = Fastify();
await app.register(se.plugin);
app.get("/events", (_request, reply) => {
  reply.sendEvent({ from: "fastify" }, "greeting", 0);
});
await app.listen({ port: 0, host: "127.0.0.1" });
const fastifyResult = await firstEvent(`http://127.0.0.1:${app.server.address().port}/events`);
await app.close();

const hub = new EventHub({ autoGenerateId: false, heartbeatMs: false });
const server = createServer((req, res) => {
  openEventStream(hub, req, res).send({ event: "greeting", data: "from node:http" });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const nodeResult = await firstEvent(`http://127.0.0.1:${server.address().port}/`);
await hub.close();
server.closeAllConnections();
server.close();

console.log(JSON.stringify({ fastify: fastifyResult, node: nodeResult }));
