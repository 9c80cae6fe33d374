import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Name of the session cookie. */
export const SESSION_COOKIE = "se_session";

/**
 * Signed session tokens, `<user>.<expires>.<HMAC-SHA256 of both>` (base64url), so the server
 * knows who a request is from without storing anything: the stream's seid is the user this
 * proves, never a value the client picked.
 */
export class Sessions {
  readonly #secret: Buffer;
  readonly #ttlMs: number;

  /** `secret`: keep it out of the code and the same on every instance (e.g. `SESSION_SECRET`). */
  constructor(secret: string | Buffer = randomBytes(32), ttlMs = 8 * 60 * 60 * 1000) {
    this.#secret = Buffer.from(secret);
    this.#ttlMs = ttlMs;
  }

  /** A token for `user`, valid for the session lifetime. */
  issue(user: string, now = Date.now()): string {
    const payload = `${Buffer.from(user).toString("base64url")}.${now + this.#ttlMs}`;
    return `${payload}.${this.#sign(payload)}`;
  }

  /** The user `token` was issued to; `undefined` when it is missing, forged or expired. */
  verify(token: string | undefined, now = Date.now()): string | undefined {
    const [user, expires, signature, ...rest] = (token ?? "").split(".");
    if (user === undefined || expires === undefined || signature === undefined || rest.length > 0)
      return undefined;
    const given = Buffer.from(signature, "base64url");
    const expected = Buffer.from(this.#sign(`${user}.${expires}`), "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (!(Number(expires) > now)) return undefined;
    return Buffer.from(user, "base64url").toString();
  }

  /** `Set-Cookie` value carrying `token`: not readable by scripts, not sent on cross-site POSTs. */
  cookie(token: string): string {
    const maxAge = Math.floor(this.#ttlMs / 1000);
    return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAge}`;
  }

  #sign(payload: string): string {
    return createHmac("sha256", this.#secret).update(payload).digest("base64url");
  }
}

/** The session token in a `Cookie` header, if any. */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === SESSION_COOKIE) return value.join("=");
  }
  return undefined;
}

/** Compares a password with the expected one in constant time. */
export function passwordMatches(given: unknown, expected: string | undefined): boolean {
  if (typeof given !== "string" || expected === undefined) return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
