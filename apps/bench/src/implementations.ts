import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchServer } from "./server-kit.js";

/** Every implementation, in table order. `raw` is the reference; peers are the public alternatives. */
export const IMPLEMENTATIONS = [
  "raw",
  "fastify-raw",
  "se-core",
  "se-fastify",
  "fastify-sse-v2",
  "@fastify/sse",
  "better-sse",
] as const;
export type ImplName = (typeof IMPLEMENTATIONS)[number];

/** `se-core` with a Redis backplane and history (127.0.0.1:6379): run by the redis scenario only. */
export const REDIS_IMPL = "se-core+redis";
/** Anything a benchmark server process can run. */
export type ServerName = ImplName | typeof REDIS_IMPL;

export const PEERS: readonly ImplName[] = ["fastify-sse-v2", "@fastify/sse", "better-sse"];
export const OURS: readonly ImplName[] = ["se-core", "se-fastify"];

const FILES: Record<ServerName, string> = {
  raw: "raw",
  "fastify-raw": "fastify-raw",
  "se-core": "se-core",
  "se-fastify": "se-fastify",
  "fastify-sse-v2": "fastify-sse-v2",
  "@fastify/sse": "fastify-sse",
  "better-sse": "better-sse",
  [REDIS_IMPL]: "se-core-redis",
};

export function loadImpl(
  name: ServerName,
): Promise<{ start(args: string[]): Promise<BenchServer> }> {
  return import(`./impls/${FILES[name]}.ts`);
}

/** Why an implementation cannot run here (its package is not built), or undefined. */
export function unavailable(name: ServerName): string | undefined {
  const dist = (pkg: string) =>
    fileURLToPath(new URL(`../../../packages/${pkg}/dist/index.js`, import.meta.url));
  const ours = name === "se-core" || name === "se-fastify" || name === REDIS_IMPL;
  if (ours && !existsSync(dist("core"))) {
    return "packages/core/dist missing: run `pnpm build`";
  }
  if (name === "se-fastify" && !existsSync(dist("fastify"))) {
    return "packages/fastify/dist missing: run `pnpm build` (included automatically once built)";
  }
  if (name === REDIS_IMPL && !existsSync(dist("redis"))) {
    return "packages/redis/dist missing: run `pnpm build`";
  }
  return undefined;
}
