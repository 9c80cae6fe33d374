import { describe, expect, it } from "vitest";
import { passwordMatches, Sessions, sessionToken } from "../src/sessions.js";

describe("Sessions", () => {
  it("verifies its own tokens until they expire", () => {
    const sessions = new Sessions("secret", 1000);
    const token = sessions.issue("alice.o'hara", 0);
    expect(sessions.verify(token, 999)).toBe("alice.o'hara");
    expect(sessions.verify(token, 1000)).toBeUndefined();
  });

  it("refuses tokens signed with another secret, and malformed ones", () => {
    const token = new Sessions("other").issue("alice");
    const sessions = new Sessions("secret");
    for (const bad of [token, undefined, "", "a.b", "a.b.c.d", `${sessions.issue("a")}.x`])
      expect(sessions.verify(bad)).toBeUndefined();
  });

  it("finds the session cookie among others", () => {
    expect(sessionToken("a=1; se_session=x.y.z=; b=2")).toBe("x.y.z=");
    expect(sessionToken(undefined)).toBeUndefined();
  });

  it("matches passwords exactly", () => {
    expect(passwordMatches("pw", "pw")).toBe(true);
    expect(passwordMatches("pw ", "pw")).toBe(false);
    expect(passwordMatches(undefined, "pw")).toBe(false);
    expect(passwordMatches("pw", undefined)).toBe(false);
  });
});
