// Checks every published package (packages/* without "private": true) the way a registry
// user would meet it: publint for package.json/exports mistakes, and
// @arethetypeswrong/cli on the packed tarball for types that do not match the JS.
// Builds the packages first. Exits non-zero when any check fails.
// Usage: pnpm check:packages [package names...]   (default: every published package)
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

// attw's default (strict) profile: every resolution mode, node10 (`moduleResolution: "node"`)
// included, which reads subpath types such as `@se/core/node` from "typesVersions".
const ATTW_ARGS = ["--pack", ".", "--format", "table-flipped"];

const packages = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => join(root, "packages", entry.name))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => manifest.private !== true);

const only = process.argv.slice(2);
for (const name of only) {
  if (!packages.some(({ manifest }) => manifest.name === name)) {
    console.error(`check:packages: ${name} is not a published package under packages/`);
    process.exit(1);
  }
}
const buildable = packages.filter(
  ({ manifest }) => manifest.scripts?.build && (only.length === 0 || only.includes(manifest.name)),
);
for (const { manifest } of packages) {
  if (only.length > 0 && !only.includes(manifest.name)) continue;
  if (!manifest.scripts?.build) console.warn(`skip ${manifest.name}: it has no build script yet`);
}

const run = (command, args, cwd) => {
  console.log(`\n$ ${[command.split("/").pop(), ...args].join(" ")}   (${manifest(cwd)})`);
  try {
    execFileSync(command, args, {
      cwd,
      stdio: "inherit",
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
    });
    return true;
  } catch {
    return false;
  }
};
const manifest = (dir) => buildable.find((p) => p.dir === dir)?.manifest.name ?? dir;

const filters = buildable.flatMap(({ manifest }) => ["--filter", manifest.name]);
if (!run(bin("turbo"), ["run", "build", "--output-logs=errors-only", ...filters], root)) {
  process.exit(1);
}

const failed = [];
for (const { dir, manifest } of buildable) {
  if (!run(bin("publint"), ["--strict"], dir)) failed.push(`${manifest.name}: publint`);
  if (!run(bin("attw"), ATTW_ARGS, dir)) failed.push(`${manifest.name}: attw`);
}
if (failed.length > 0) {
  console.error(`\ncheck:packages failed:\n  ${failed.join("\n  ")}`);
  process.exit(1);
}
console.log(`\ncheck:packages: ${buildable.map((p) => p.manifest.name).join(", ")} ok`);
