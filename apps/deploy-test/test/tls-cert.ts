import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Need } from "./suite-needs.js";

/** Debian's `openssl` CLI makes the test's certificate. */
export const OPENSSL = "/usr/bin/openssl";
/** openssl, for {@link suiteCanRun}: the browser tests need it where they need Chromium. */
export const OPENSSL_NEED: Need = {
  path: OPENSSL,
  install: "apt-get install openssl",
  required: process.env.SE_REQUIRE_BROWSER === "1" || process.env.CI === "true",
  requiredBy: "SE_REQUIRE_BROWSER=1 or CI=true",
};

/** A fresh self-signed certificate for 127.0.0.1 (P-256, one day), made with `openssl`. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "se-tls-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      OPENSSL,
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
        ...["-addext", "subjectAltName=IP:127.0.0.1"],
      ],
      { stdio: "pipe" },
    );
    return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
