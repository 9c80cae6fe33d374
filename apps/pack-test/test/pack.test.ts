import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../..", import.meta.url));
const consumerFiles = fileURLToPath(new URL("./consumer", import.meta.url));

/** Every published package. */
const packages = [
  { name: "@se/core", dir: "packages/core" },
  { name: "@se/fastify", dir: "packages/fastify" },
  { name: "@se/redis", dir: "packages/redis" },
  { name: "@se/testing", dir: "packages/testing" },
];

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Why no Redis answers at REDIS_URL, or `undefined` when a TCP connection opens. */
function probeRedis(): Promise<string | undefined> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 1000 });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.once("connect", () => done(undefined));
    socket.once("timeout", () => done(`no answer from ${REDIS_URL} within 1 s`));
    socket.once("error", (error) => done(`no Redis at ${REDIS_URL} (${error.message})`));
  });
}
const redisUnavailable = await probeRedis();
if (redisUnavailable !== undefined) {
  // CI sets SE_REQUIRE_REDIS=1: a missing Redis fails the run instead of skipping the test.
  if (process.env.SE_REQUIRE_REDIS === "1") {
    throw new Error(`SE_REQUIRE_REDIS=1 but ${redisUnavailable}`);
  }
  console.warn(`Skipping the @se/redis delivery test: ${redisUnavailable}. Set REDIS_URL.`);
}

let temp: string;
let project: string;
const tarballs = new Map<string, string>();

async function node(file: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, [file, ...args], {
    cwd: project,
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) as string);
}

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), "se-pack-test-"));
  const packs = join(temp, "tarballs");
  mkdirSync(packs);
  for (const { name, dir } of packages) {
    expect(existsSync(join(root, dir, "dist")), `${name}: run pnpm build first`).toBe(true);
    const before = new Set(readdirSync(packs));
    await run("pnpm", ["pack", "--pack-destination", packs], { cwd: join(root, dir) });
    const file = readdirSync(packs).find((f) => !before.has(f));
    if (!file) throw new Error(`pnpm pack wrote no tarball for ${name}`);
    tarballs.set(name, join(packs, file));
  }

  // A project outside the workspace, so nothing resolves through pnpm's links.
  project = join(temp, "project");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "se-pack-consumer", version: "0.0.0", private: true }, null, 2),
  );
  for (const file of readdirSync(consumerFiles)) {
    copyFileSync(join(consumerFiles, file), join(project, file));
  }
  // All tarballs in one install: @se/fastify's dependency on @se/core@<version> (rewritten from
  // workspace:^ by pnpm pack) is then met by the @se/core tarball, not the registry.
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      ...tarballs.values(),
      "fastify@5",
      "ioredis@6",
    ],
    { cwd: project, timeout: 150_000 },
  );
});

/** The package.json inside a packed tarball. */
async function packedManifest(name: string): Promise<{
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}> {
  const tarball = tarballs.get(name) as string;
  const { stdout } = await run("tar", ["-xzOf", tarball, "package/package.json"]);
  return JSON.parse(stdout);
}

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

/**
 * Replaces each `retry: N` the default options advertise (3000 ms plus up to 50 % jitter) with
 * `retry: jittered`, failing on a value outside that range.
 */
function withRetry(value: unknown): unknown {
  const text = JSON.stringify(value).replace(/retry: (\d+)/g, (_, ms: string) => {
    expect(Number(ms)).toBeGreaterThanOrEqual(3000);
    expect(Number(ms)).toBeLessThanOrEqual(4500);
    return "retry: jittered";
  });
  return JSON.parse(text);
}

describe("published tarballs, installed with npm in a fresh project", () => {
  it("packs only dist, README, LICENSE and package.json, with workspace versions rewritten", async () => {
    for (const [name, tarball] of tarballs) {
      const { stdout } = await run("tar", ["-tzf", tarball]);
      const files = stdout.trim().split("\n");
      expect(files, name).toContain("package/package.json");
      expect(files, name).toContain("package/README.md");
      expect(files, name).toContain("package/LICENSE");
      expect(
        files.filter(
          (f) => !/^package\/(dist\/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE)/.test(f),
        ),
        name,
      ).toEqual([]);
    }
    const fastify = await packedManifest("@se/fastify");
    expect(fastify.dependencies["@se/core"]).not.toMatch(/workspace:/);
    expect(fastify.peerDependencies.fastify).toBe("^5.0.0");
    const redis = await packedManifest("@se/redis");
    expect(redis.dependencies["@se/core"]).not.toMatch(/workspace:/);
    expect(Object.keys(redis.peerDependencies)).toEqual(["ioredis"]);
  });

  it("installs @se/core from its tarball, not the registry", async () => {
    const { stdout } = await run("npm", ["ls", "@se/core", "--json"], { cwd: project });
    const tree = JSON.parse(stdout);
    expect(tree.dependencies["@se/core"].resolved).toMatch(/^file:/);
    expect(
      tree.dependencies["@se/fastify"].dependencies?.["@se/core"]?.resolved ?? "deduped",
    ).not.toMatch(/^https?:/);
  });

  const expected = {
    core: ["function", "function", "function"],
    node: ["function", "function"],
    fastify: ["function", "function", true],
    frame: "event: greeting\ndata: hello\ndata: world\n\n",
    redis: ["function", "function", "function"],
  };

  it("loads every entry with require()", async () => {
    expect(await node("require.cjs")).toEqual(expected);
  });

  it("loads every entry with import", async () => {
    expect(await node("import.mjs")).toEqual(expected);
  });

  it("serves an event to a real client from Fastify and from node:http", async () => {
    expect(withRetry(await node("serve.mjs"))).toEqual({
      fastify: {
        type: "text/event-stream; charset=utf-8",
        text: 'retry: jittered\n\nevent: greeting\nid: 0\ndata: {"from":"fastify"}\n\n',
      },
      node: {
        type: "text/event-stream; charset=utf-8",
        text: "retry: jittered\n\nevent: greeting\ndata: from node:http\n\n",
      },
    });
  });

  it("runs @se/testing's node:test README example against @se/fastify, as installed", async () => {
    const readme = readFileSync(join(root, "packages/testing/README.md"), "utf8");
    const example = /```js\n(\/\/ events\.test\.mjs\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(example, "packages/testing/README.md: no events.test.mjs block").toBeTruthy();
    writeFileSync(join(project, "events.test.mjs"), example as string);
    const result = await run(
      process.execPath,
      ["--test", "--test-reporter=tap", "events.test.mjs"],
      { cwd: project, timeout: 60_000 },
    ).catch((error) => error);
    const tap = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    expect(/^# fail (\d+)$/m.exec(tap)?.[1], tap).toBe("0");
    expect(Number(/^# pass (\d+)$/m.exec(tap)?.[1]), tap).toBeGreaterThan(0);
  });

  it.skipIf(redisUnavailable !== undefined)(
    "carries an event from one hub to another through @se/redis and a real Redis",
    async () => {
      const prefix = `se-pack-test:${randomUUID()}:`;
      expect(withRetry(await node("redis.mjs", REDIS_URL, prefix))).toEqual({
        type: "text/event-stream; charset=utf-8",
        text: "retry: jittered\n\nevent: greeting\ndata: from instance A\n\n",
      });
    },
  );
});
