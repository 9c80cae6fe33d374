// Runs in the fresh project: every published entry loads through import.
import * as core from "@se/core";
import * as node from "@se/core/node";
import sePlugin, { sePlugin as named, SE } from "@se/fastify";

const out = {
  core: [typeof core.EventHub, typeof core.formatEvent, typeof core.createEventResponse],
  node: [typeof node.openEventStream, typeof node.createNodeSink],
  fastify: [typeof SE, typeof sePlugin, named === sePlugin],
  frame: core.formatEvent({ event: "greeting", data: "hello\nworld" }),
};
const redis = await import("@se/redis");
out.redis = [
  typeof redis.redisBackplane,
  typeof redis.RedisBackplane,
  typeof redis.RedisReplayHistory,
];
console.log(JSON.stringify(out));
