import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built server, as `pnpm demo` starts it. */
export const SERVER = fileURLToPath(new URL("../dist/server.js", import.meta.url));

/** A `node dist/server.js` child process and what it printed. */
export interface DemoProcess {
  readonly child: ChildProcess;
  /** The URL the server printed. */
  readonly url: string;
  /** Everything printed on stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the built demo with `env` added to this process's and waits for its URL. */
export async function startProcess(env: Record<string, string>): Promise<DemoProcess> {
  if (!existsSync(SERVER)) {
    throw new Error(`${SERVER} is missing: run "pnpm --filter @se/demo build" (turbo does it).`);
  }
  const { REDIS_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [SERVER], {
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /se demo is live: +(http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`demo exited (${code}) before it printed its URL:\n${output}`)),
    );
  });
  return {
    child,
    url,
    output: () => output,
    stop: (signal = "SIGINT") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
