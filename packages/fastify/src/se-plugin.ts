import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { installSE } from "./install-se.js";
import { SE, type SEOptions } from "./se.js";

/**
 * The plugin form: `fastify.register(sePlugin, options)` creates an {@link SE} for the
 * app, reachable as `fastify.se`.
 */
export const sePlugin: FastifyPluginAsync<SEOptions> = fp(
  async (fastify, options: SEOptions) => installSE(fastify, new SE(options)),
  { fastify: "5.x", name: "@se/fastify" },
);
