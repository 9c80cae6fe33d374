import { defineConfig } from "tsup";

// One ESM file, dist/server.js. It finds the page in ../public relative to itself, so the
// assets stay in the package folder and are never copied. The metrics module of
// examples/prometheus is TypeScript source (a private package with no build): bundled in.
export default defineConfig({
  entry: { server: "src/server.ts" },
  format: ["esm"],
  clean: true,
  sourcemap: true,
  target: "node20",
  splitting: false,
  noExternal: ["@se/example-prometheus"],
});
