import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium, driven by playwright-core. */
export const CHROMIUM = "/usr/bin/chromium";
export const hasBrowser = existsSync(CHROMIUM);
/** CI sets SE_REQUIRE_BROWSER=1: then a missing Chromium fails the run instead of skipping it. */
export const browserRequired = process.env.SE_REQUIRE_BROWSER === "1";
/** Screenshots go here (git-ignored), so a person can look at what the page showed. */
export const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));

/**
 * Starts headless Chromium with the flags from DEVELOPERS.md. `launch()` gives it a fresh
 * temporary profile (Playwright refuses `--user-data-dir` in args); each context has its own
 * storage, like another browser.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 20_000,
  });
}
