#!/usr/bin/env bash
# Runs every check of the repo: lint, build, typecheck, package checks, then all tests, and prints
# one closing line "N passed, N failed, N skipped" summed over every package.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1 TURBO_TELEMETRY_DISABLED=1 FORCE_COLOR=0
rm -rf .test-results && mkdir -p .test-results

status=0
pnpm exec biome check . || status=1
pnpm exec turbo run build typecheck --output-logs=errors-only || status=1
# publint + @arethetypeswrong/cli on every published package, and the pending changesets.
node scripts/check-packages.mjs || status=1
pnpm exec changeset status || status=1
pnpm exec turbo run test --concurrency=1 --output-logs=full || status=1
node scripts/test-summary.mjs || status=1
exit $status
