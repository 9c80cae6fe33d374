/**
 * Child processes of a run: every server, load generator and encoder bench is forked here,
 * tracked, and killed when the run ends, fails or is interrupted.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

export interface Forked {
  child: ChildProcess;
  /** Last lines the child wrote to stderr, for error messages. */
  stderr(): string;
}

export function forkScript(script: string, args: string[], execArgv: string[] = []): Forked {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
    cwd: BENCH_DIR,
    execArgv: [...execArgv, "--import", "tsx"],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let tail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text: string) => {
    tail = (tail + text).slice(-4000);
  });
  return { child, stderr: () => tail.trim() };
}

/** Waits for the first IPC message of `type` (or the child's death, or the deadline). */
export function message<T>(
  forked: Forked,
  type: string,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const { child } = forked;
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (msg: { type: string; message?: string }): void => {
      if (msg.type === "error") {
        done();
        reject(new Error(`${what}: ${msg.message}`));
      } else if (msg.type === type) {
        done();
        resolve(msg as T);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      done();
      const lines = forked.stderr().split("\n");
      const cause = lines.find((l) => /error/i.test(l) && !/^\s+at /.test(l)) ?? lines.at(-1) ?? "";
      reject(new Error(`${what} exited (${code ?? signal}): ${cause.trim().slice(0, 300)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/** Stops a child: SIGTERM, then SIGKILL after a second. */
export function stop(forked: Forked): Promise<void> {
  const { child } = forked;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
