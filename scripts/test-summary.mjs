// Sums vitest JSON reports in .test-results/ into one closing line for CI.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../.test-results/", import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
let files = 0;
for (const name of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const report = JSON.parse(readFileSync(join(dir, name), "utf8"));
  files++;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  // A test file that failed to load counts as a failure even with no test in it.
  for (const result of report.testResults ?? []) {
    if (result.status === "failed" && (result.assertionResults ?? []).length === 0) failed++;
  }
}
if (files === 0) {
  console.log("0 passed, 1 failed");
  console.error("no test report found in .test-results/");
  process.exit(1);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
