import { existsSync } from "node:fs";
import { describe, it } from "vitest";

/** A program a suite runs, and whether this run must have it. */
export interface Need {
  path: string;
  /** How to install it, for the message. */
  install: string;
  /** `true` in CI (CI=true or the SE_REQUIRE_* variable named in `requiredBy`). */
  required: boolean;
  requiredBy: string;
}

/**
 * Whether a suite can run. When a program it needs is missing, it warns why the suite is
 * skipped, or, when the program is required, defines a test that fails (so a run that has
 * everything reports nothing skipped).
 */
export function suiteCanRun(name: string, needs: readonly Need[]): boolean {
  const missing = needs.filter((need) => !existsSync(need.path));
  if (missing.length === 0) return true;
  for (const need of missing) {
    if (need.required) {
      describe(name, () => {
        it(`has ${need.path} (${need.requiredBy})`, () => {
          throw new Error(
            `${need.path} is required (${need.requiredBy}) but missing: ${need.install}`,
          );
        });
      });
    } else {
      console.warn(
        `[deploy-test] SKIPPED ${name}: no ${need.path} (${need.install}). ` +
          `Set ${need.requiredBy.split(" ")[0]} to make this a failure.`,
      );
    }
  }
  return false;
}
