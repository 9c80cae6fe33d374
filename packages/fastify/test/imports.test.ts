import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

// Runs a snippet in a fresh Node process from the package folder, as a user's code would.
function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: packageDir, encoding: "utf8" }).trim();
}

const check = `
  const app = Fastify();
  app.register(SE_PLUGIN);
  app.get("/e", (req, reply) => { reply.sendEvent({ n: 1 }, "x"); reply.endEvent(); });
  app.inject({ url: "/e" }).then((r) => { console.log(typeof SE, r.body.includes('data: {"n":1}')); return app.close(); });
`;

describe("every way of importing @se/fastify", () => {
  it("has a build to import", () => {
    expect(existsSync(`${packageDir}/dist/index.cjs`), "run pnpm build first").toBe(true);
  });

  it("require: { SE } and new SE().plugin", () => {
    const out = run([
      "-e",
      `const Fastify = require("fastify"); const { SE } = require("@se/fastify"); const SE_PLUGIN = new SE().plugin; ${check}`,
    ]);
    expect(out).toBe("function true");
  });

  it("require: sePlugin and .default", () => {
    const out = run([
      "-e",
      `const m = require("@se/fastify"); console.log(typeof m.sePlugin, m.default === m.sePlugin, typeof m.FST_ERR_SE_STREAM_ENDED);`,
    ]);
    expect(out).toBe("function true function");
  });

  it("import: named SE, sePlugin and the default export", () => {
    const out = run([
      "--input-type=module",
      "-e",
      `import Fastify from "fastify"; import sePlugin, { SE, sePlugin as named } from "@se/fastify"; const SE_PLUGIN = sePlugin; if (named !== sePlugin) throw new Error("default differs"); ${check}`,
    ]);
    expect(out).toBe("function true");
  });
});
