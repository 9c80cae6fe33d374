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

export const PEERS: readonly ImplName[] = ["fastify-sse-v2", "@fastify/sse", "better-sse"];
export const OURS: readonly ImplName[] = ["se-core", "se-fastify"];

const FILES: Record<ImplName, string> = {
  raw: "raw",
  "fastify-raw": "fastify-raw",
  "se-core": "se-core",
  "se-fastify": "se-fastify",
  "fastify-sse-v2": "fastify-sse-v2",
  "@fastify/sse": "fastify-sse",
  "better-sse": "better-sse",
};

export function loadImpl(name: ImplName): Promise<{ start(): Promise<BenchServer> }> {
  return import(`./impls/${FILES[name]}.ts`);
}

/** Why an implementation cannot run here (its package is not built), or undefined. */
export function unavailable(name: ImplName): string | undefined {
  const dist = (pkg: string) =>
    fileURLToPath(new URL(`../../../packages/${pkg}/dist/index.js`, import.meta.url));
  if ((name === "se-core" || name === "se-fastify") && !existsSync(dist("core"))) {
    return "packages/core/dist missing: run `pnpm build`";
  }
  if (name === "se-fastify" && !existsSync(dist("fastify"))) {
    return "packages/fastify/dist missing: run `pnpm build` (included automatically once built)";
  }
  return undefined;
}
