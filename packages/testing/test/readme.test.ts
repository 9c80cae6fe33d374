/**
 * Runs the README's examples as a user would: every code block whose first line names a test
 * file (`// events.test.ts`) is written, unchanged, into a fresh project outside the workspace
 * whose node_modules links @se/testing (this package's build), @se/fastify, fastify and vitest.
 * `.test.ts` files run under Vitest, `.test.mjs` files under `node --test`; both must pass.
 */
import { execFile } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(packageDir, "README.md"), "utf8");

/** `{ file, code }` for every fenced block whose first line is `// <name>.test.(ts|mjs)`. */
function examples(): { file: string; code: string }[] {
  const blocks = [...readme.matchAll(/```(?:ts|js)\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  return blocks.flatMap((code) => {
    const file = /^\/\/ ([\w.-]+\.test\.(?:ts|mjs))\n/.exec(code)?.[1];
    return file ? [{ file, code }] : [];
  });
}

let project: string;
beforeAll(() => {
  expect(
    readFileSync(join(packageDir, "dist/index.js"), "utf8"),
    "build @se/testing first",
  ).toBeTruthy();
  project = mkdtempSync(join(tmpdir(), "se-testing-readme-"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  const links: Record<string, string> = {
    "@se/testing": packageDir,
    "@se/fastify": join(packageDir, "../fastify"),
    fastify: realpathSync(join(packageDir, "node_modules/fastify")),
    vitest: realpathSync(join(packageDir, "node_modules/vitest")),
  };
  for (const [name, target] of Object.entries(links)) {
    const link = join(project, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, "dir");
  }
  for (const { file, code } of examples()) writeFileSync(join(project, file), code);
});
afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** The environment without this Vitest run's own variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(VITEST|TEST|NODE_OPTIONS$)/.test(name)),
  );
}

describe("README examples", () => {
  it("has a Vitest and a node:test example", () => {
    expect(examples().map((example) => example.file)).toEqual([
      "events.test.ts",
      "events.test.mjs",
    ]);
  });

  it("the Vitest example passes", async () => {
    const vitest = join(project, "node_modules/vitest/vitest.mjs");
    const report = join(project, "vitest-report.json");
    const result = await run(
      process.execPath,
      [vitest, "run", "events.test.ts", "--reporter=json", `--outputFile=${report}`],
      { cwd: project, env: cleanEnv(), timeout: 60_000 },
    ).catch((error) => error);
    const json = JSON.parse(readFileSync(report, "utf8"));
    const failures = json.testResults.flatMap(
      (file: { assertionResults: unknown[]; message: string }) => [
        file.message,
        ...file.assertionResults
          .filter((test) => (test as { status: string }).status !== "passed")
          .map((test) => JSON.stringify(test)),
      ],
    );
    expect(failures.filter(Boolean), `${result.stdout ?? ""}${result.stderr ?? ""}`).toEqual([]);
    expect({ passed: json.numPassedTests, failed: json.numFailedTests }).toEqual({
      passed: 3,
      failed: 0,
    });
  });

  it("the node:test example passes under node --test", async () => {
    const result = await run(
      process.execPath,
      ["--test", "--test-reporter=tap", "events.test.mjs"],
      { cwd: project, env: cleanEnv(), timeout: 60_000 },
    ).catch((error) => error);
    const tap = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    expect(/^# fail (\d+)$/m.exec(tap)?.[1], tap).toBe("0");
    expect(/^# pass (\d+)$/m.exec(tap)?.[1], tap).toBe("3");
  });
});
