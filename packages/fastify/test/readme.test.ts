/**
 * Runs the root README's quick start as a user would: the code block, unchanged but for the
 * port, in its own Node process, then a real client opens the stream and a POST broadcasts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(packageDir, "../../README.md"), "utf8");

/** The first ```js block after the "## Quick start" heading. */
function quickStart(): string {
  const section = readme.slice(readme.indexOf("## Quick start"));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error("README.md: no js block under ## Quick start");
  return match[1];
}

/** Resolves with the URL the app logs once it listens; rejects if it exits first. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url) resolve(url);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`quick start exited (${code}):\n${output}`)));
  });
}

// Inside the package, so `fastify` and `@se/fastify` (self-reference) resolve as for a user.
const dir = mkdtempSync(join(packageDir, ".readme-"));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("README quick start", () => {
  it("serves a stream and broadcasts what is POSTed to /say", async () => {
    const code = quickStart();
    expect(code).toContain("port: 3000");
    const file = join(dir, "quick-start.mjs");
    writeFileSync(file, code.replace("port: 3000", 'port: 0, host: "127.0.0.1"'));
    child = spawn(process.execPath, [file], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    const base = await listening(child);

    const controller = new AbortController();
    const stream = await fetch(`${base}/events`, { signal: controller.signal });
    expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();

    const said = await fetch(`${base}/say`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hi",
    });
    expect(await said.json()).toMatchObject({ local: 1 });
    while (!events.some((event) => event.event === "say")) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    controller.abort();
    expect(events.filter((event) => event.event === "say").map((event) => event.data)).toEqual([
      "hi",
    ]);
  });
});
