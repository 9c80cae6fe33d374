import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../..", import.meta.url));
const consumerFiles = fileURLToPath(new URL("./consumer", import.meta.url));

/** Published packages: always core and fastify; redis once it has been built. */
const packages = [
  { name: "@se/core", dir: "packages/core" },
  { name: "@se/fastify", dir: "packages/fastify" },
  ...(existsSync(join(root, "packages/redis/dist"))
    ? [{ name: "@se/redis", dir: "packages/redis" }]
    : []),
];
const withRedis = packages.some((p) => p.name === "@se/redis");

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
  // All tarballs in one install: @se/fastify's dependency on @se/core@0.1.0 (rewritten from
  // workspace:^ by pnpm pack) is then met by the @se/core tarball, not the registry.
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs.values(), "fastify@5"],
    { cwd: project, timeout: 150_000 },
  );
});

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

describe("published tarballs, installed with npm in a fresh project", () => {
  it("packs only dist, README and package.json, with workspace versions rewritten", async () => {
    for (const [name, tarball] of tarballs) {
      const { stdout } = await run("tar", ["-tzf", tarball]);
      const files = stdout.trim().split("\n");
      expect(files, name).toContain("package/package.json");
      expect(files, name).toContain("package/README.md");
      expect(
        files.filter(
          (f) => !/^package\/(dist\/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE)/.test(f),
        ),
        name,
      ).toEqual([]);
    }
    const { stdout } = await run("tar", [
      "-xzOf",
      tarballs.get("@se/fastify") as string,
      "package/package.json",
    ]);
    const manifest = JSON.parse(stdout);
    expect(manifest.dependencies["@se/core"]).not.toMatch(/workspace:/);
    expect(manifest.peerDependencies.fastify).toBe("^5.0.0");
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
    ...(withRedis ? { redis: true } : {}),
  };

  it("loads every entry with require()", async () => {
    expect(await node("require.cjs", ...(withRedis ? ["--redis"] : []))).toEqual(expected);
  });

  it("loads every entry with import", async () => {
    expect(await node("import.mjs", ...(withRedis ? ["--redis"] : []))).toEqual(expected);
  });

  it("serves an event to a real client from Fastify and from node:http", async () => {
    expect(await node("serve.mjs")).toEqual({
      fastify: {
        type: "text/event-stream; charset=utf-8",
        text: 'retry: 3000\n\nevent: greeting\nid: 0\ndata: {"from":"fastify"}\n\n',
      },
      node: {
        type: "text/event-stream; charset=utf-8",
        text: "retry: 3000\n\nevent: greeting\ndata: from node:http\n\n",
      },
    });
  });
});
