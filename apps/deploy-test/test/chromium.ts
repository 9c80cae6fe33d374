import { type Browser, chromium } from "playwright-core";
import type { Need } from "./suite-needs.js";

/** Debian's Chromium, driven by playwright-core (as in apps/demo). */
export const CHROMIUM = "/usr/bin/chromium";
/** CI sets SE_REQUIRE_BROWSER=1: then a missing Chromium fails the run instead of skipping it. */
export const browserRequired = process.env.SE_REQUIRE_BROWSER === "1" || process.env.CI === "true";

/**
 * Starts headless Chromium with the flags from DEVELOPERS.md, plus `--ignore-certificate-errors`
 * for the tests' self-signed certificate. `launch()` gives it a fresh temporary profile.
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
      "--ignore-certificate-errors",
    ],
    timeout: 20_000,
  });
}

/** Chromium, for {@link suiteCanRun}. */
export const CHROMIUM_NEED: Need = {
  path: CHROMIUM,
  install: "apt-get install chromium",
  required: browserRequired,
  requiredBy: "SE_REQUIRE_BROWSER=1 or CI=true",
};
