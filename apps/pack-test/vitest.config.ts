import { defineConfig } from "vitest/config";

// Packing and `npm install` into a fresh project take tens of seconds on a cold cache.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
