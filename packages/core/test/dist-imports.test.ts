import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

function runNode(args: string[]): unknown {
  const out = execFileSync(process.execPath, args, { cwd: packageDir, encoding: "utf8" });
  return JSON.parse(out);
}

const script = `
  const frame = c.formatEvent({ event: "e", id: 0, data: "a\\nb" });
  let error;
  try { c.formatEvent({ id: "x\\ny", data: "d" }); } catch (e) { error = e; }
  const node = n.openEventStream !== undefined && typeof n.createNodeSink === "function";
  console.log(JSON.stringify({
    frame,
    isFormatError: c.SseFormatError.isInstance(error),
    isSeError: c.SeError.isInstance(error),
    instanceOf: error instanceof c.SseFormatError,
    code: error.code,
    field: error.field,
    hub: typeof new c.EventHub({ heartbeatMs: false }).broadcast,
    node,
  }));
`;

const expected = {
  frame: "event: e\nid: 0\ndata: a\ndata: b\n\n",
  isFormatError: true,
  isSeError: true,
  instanceOf: true,
  code: "SE_ERR_INVALID_FIELD",
  field: "id",
  hub: "function",
  node: true,
};

describe("the built package (dist), by require and by import", () => {
  it("dist exists (turbo builds before test; run `pnpm build` otherwise)", () => {
    for (const file of [
      "dist/index.cjs",
      "dist/index.js",
      "dist/node/index.cjs",
      "dist/node/index.js",
    ]) {
      expect(existsSync(`${packageDir}/${file}`), `${file} is missing: run pnpm build`).toBe(true);
    }
  });

  it("works through require('@se/core')", () => {
    const code = `const c = require("@se/core"); const n = require("@se/core/node"); ${script}`;
    expect(runNode(["-e", code])).toEqual(expected);
  });

  it("works through import from '@se/core'", () => {
    const code = `const c = await import("@se/core"); const n = await import("@se/core/node"); ${script}`;
    expect(runNode(["--input-type=module", "-e", code])).toEqual(expected);
  });

  it("an error from the CJS copy is recognised by the ESM copy", () => {
    const code = `
      const { createRequire } = await import("node:module");
      const cjs = createRequire(process.cwd() + "/")("@se/core");
      const esm = await import("@se/core");
      let error;
      try { cjs.formatEvent({ retry: -1 }); } catch (e) { error = e; }
      console.log(JSON.stringify([esm.SseFormatError.isInstance(error), esm.SeError.isInstance(error), error instanceof esm.SeError]));
    `;
    expect(runNode(["--input-type=module", "-e", code])).toEqual([true, true, false]);
  });
});
