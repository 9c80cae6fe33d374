import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // @se/fastify devDepends on this package, so it cannot be a dependency here (turbo refuses the
  // cycle): the tests use its build (turbo.json runs @se/fastify#build first).
  resolve: {
    alias: { "@se/fastify": fileURLToPath(new URL("../fastify/dist/index.js", import.meta.url)) },
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
