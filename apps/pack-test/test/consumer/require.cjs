// Runs in the fresh project: every published entry loads through require().
const core = require("@se/core");
const node = require("@se/core/node");
const fastify = require("@se/fastify");
const out = {
  core: [typeof core.EventHub, typeof core.formatEvent, typeof core.createEventResponse],
  node: [typeof node.openEventStream, typeof node.createNodeSink],
  fastify: [typeof fastify.SE, typeof fastify.sePlugin, fastify.default === fastify.sePlugin],
  frame: core.formatEvent({ event: "greeting", data: "hello\nworld" }),
};
if (process.argv.includes("--redis")) out.redis = Object.keys(require("@se/redis")).length > 0;
console.log(JSON.stringify(out));
