/**
 * The `key=value` arguments a bench server may take after its implementation name
 * (`server.ts se-fastify backlog=511 redis=<prefix> before=<dir>`).
 */
import { DEFAULT_BACKLOG } from "./impls/listen.js";

export interface ServerArgs {
  /** `listen({ backlog })`. @default 8192 (capped by the kernel's somaxconn) */
  backlog: number;
  /** Use the `@se/redis` backplane and history under this key prefix. */
  redis?: string;
  /** Load se from another checkout's build (its root, holding `packages/<name>/dist`). */
  before?: string;
}

export function parseServerArgs(args: readonly string[]): ServerArgs {
  const parsed: ServerArgs = { backlog: DEFAULT_BACKLOG };
  for (const arg of args) {
    const at = arg.indexOf("=");
    const key = at === -1 ? arg : arg.slice(0, at);
    const value = at === -1 ? "" : arg.slice(at + 1);
    if (key === "backlog") {
      const backlog = Number(value);
      if (!Number.isSafeInteger(backlog) || backlog < 1 || backlog > 65535) {
        throw new Error(`backlog must be 1..65535, got "${value}"`);
      }
      parsed.backlog = backlog;
    } else if ((key === "redis" || key === "before") && value !== "") {
      parsed[key] = value;
    } else {
      throw new Error(
        `unknown server argument "${arg}" (expected backlog=N, redis=<prefix>, before=<dir>)`,
      );
    }
  }
  return parsed;
}
