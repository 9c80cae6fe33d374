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
const redis = require("@se/redis");
out.redis = [
  typeof redis.redisBackplane,
  typeof redis.RedisBackplane,
  typeof redis.RedisReplayHistory,
];
console.log(JSON.stringify(out));
