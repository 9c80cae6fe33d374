import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";

let app: FastifyInstance;

beforeEach(async () => {
  app = await buildApp({ logger: false });
});
afterEach(() => app.close());

async function join(body: unknown) {
  const response = await app.inject({ method: "POST", url: "/join", payload: body as object });
  return { status: response.statusCode, body: response.json() };
}

describe("POST /join", () => {
  it("grants a valid nickname with a secret token", async () => {
    const { status, body } = await join({ nick: "ada_99" });
    expect(status).toBe(200);
    expect(body.nick).toBe("ada_99");
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it.each([
    ["too short", "a"],
    ["too long", "a".repeat(21)],
    ["a space", "ada lovelace"],
    ["markup", "<b>ada</b>"],
    ["non-ASCII letters", "adä"],
    ["a number", 42],
    ["nothing", undefined],
  ])("refuses a nickname with %s: 400 and a message that says the rule", async (_, nick) => {
    const { status, body } = await join({ nick });
    expect(status).toBe(400);
    expect(body.message).toBe(
      "nickname must be 2 to 20 characters long and use only letters A-Z, digits, '_' or '-'",
    );
  });

  it("refuses a nickname held by another browser: 409, in any letter case", async () => {
    expect((await join({ nick: "grace" })).status).toBe(200);
    for (const attempt of [{ nick: "grace" }, { nick: "GRACE" }, { nick: "grace", token: "x" }]) {
      const { status, body } = await join(attempt);
      expect(status).toBe(409);
      expect(body.message).toBe(
        'nickname "grace" is already taken by someone who is online; choose another one',
      );
    }
  });

  it("gives the same nickname back to the browser holding its token", async () => {
    const first = await join({ nick: "linus" });
    const again = await join({ nick: "linus", token: first.body.token });
    expect(again).toEqual({ status: 200, body: first.body });
  });

  it("frees a nickname once its owner is gone for the grace period", async () => {
    await app.close();
    app = await buildApp({ logger: false, nicknameGraceMs: 0 });
    const first = await join({ nick: "barbara" });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await join({ nick: "barbara" });
    expect(second.status).toBe(200);
    expect(second.body.token).not.toBe(first.body.token);
    // The old token no longer opens a stream or sends messages.
    const response = await app.inject({
      method: "POST",
      url: "/messages",
      headers: { authorization: `Bearer ${first.body.token}` },
      payload: { text: "hi" },
    });
    expect(response.statusCode).toBe(401);
  });
});

describe("tokens", () => {
  it("refuses an event stream without a valid token: 401", async () => {
    for (const url of ["/events", "/events?token=forged"]) {
      const response = await app.inject({ method: "GET", url });
      expect(response.statusCode).toBe(401);
      expect(response.json().message).toMatch(/POST \/join/);
    }
  });

  it("refuses messages without a valid token: 401", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/messages",
      payload: { text: "hi" },
    });
    expect(response.statusCode).toBe(401);
  });

  it("serves the page", async () => {
    const response = await app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/text\/html/);
    expect(response.body).toContain("<title>se demo");
  });
});
