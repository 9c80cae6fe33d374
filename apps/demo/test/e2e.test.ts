import { mkdirSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { ARTIFACTS, browserRequired, CHROMIUM, hasBrowser, launchChromium } from "./chromium.js";

const WAIT = { timeout: 10_000 };

if (!hasBrowser && !browserRequired) {
  console.warn(
    `[demo e2e] SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium). ` +
      "Set SE_REQUIRE_BROWSER=1 to make this a failure.",
  );
}

// Defined only when it fails, so a run with Chromium reports no skipped test.
if (!hasBrowser && browserRequired) {
  describe("browser", () => {
    it("is installed (SE_REQUIRE_BROWSER=1)", () => {
      throw new Error(`SE_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}`);
    });
  });
}

describe.runIf(hasBrowser)("the demo page in Chromium", () => {
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;
  const pages: Record<string, Page> = {};

  beforeAll(async () => {
    app = await buildApp({ logger: false, testRoutes: true, retry: 1000, jobStepMs: 40 });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    url = `http://127.0.0.1:${address.port}/`;
    browser = await launchChromium();
    for (const nick of ["ada", "grace", "linus"]) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT.timeout);
      await page.goto(url);
      await page.fill("#nick", nick);
      await page.click("#join-form button");
      await waitForStatus(page, "live");
      pages[nick] = page;
    }
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const page = (nick: string): Page => {
    const found = pages[nick];
    if (found === undefined) throw new Error(`no page for ${nick}`);
    return found;
  };

  async function waitForStatus(target: Page, status: string): Promise<void> {
    await target.waitForFunction(
      (expected) => document.getElementById("status")?.dataset.state === expected,
      status,
      WAIT,
    );
  }

  /** Texts of the chat (or DM) list, in order. */
  function texts(target: Page, list: "messages" | "dms"): Promise<string[]> {
    return target.$$eval(`#${list} li .text`, (items) => items.map((item) => item.textContent));
  }

  async function waitForText(target: Page, list: "messages" | "dms", text: string): Promise<void> {
    await target.waitForFunction(
      ([id, expected]) =>
        Array.from(document.querySelectorAll(`#${id} li .text`)).some(
          (item) => item.textContent === expected,
        ),
      [list, text] as const,
      WAIT,
    );
  }

  /** The stats panel as shown: `stat-<name>` → text. */
  function statsPanel(target: Page): Promise<Record<string, string | null>> {
    return target.$$eval(".stats dd", (items) =>
      Object.fromEntries(items.map((item) => [item.id.replace(/^stat-/, ""), item.textContent])),
    );
  }

  async function say(nick: string, text: string): Promise<void> {
    await page(nick).fill("#chat-text", text);
    await page(nick).click("#chat-form button");
  }

  it("lists everyone who is online", async () => {
    for (const nick of Object.keys(pages)) {
      await page(nick).waitForFunction(
        () => document.querySelectorAll("#users li").length === 3,
        undefined,
        WAIT,
      );
    }
    expect(
      await page("grace").$$eval("#users li", (items) => items.map((i) => i.textContent)),
    ).toEqual(["ada", "grace (you)", "linus"]);
  });

  it("refuses a nickname that another browser holds", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 520 } });
    const intruder = await context.newPage();
    await intruder.goto(url);
    await intruder.fill("#nick", "Ada");
    await intruder.click("#join-form button");
    await intruder.waitForFunction(
      () => document.getElementById("join-error")?.textContent !== "",
      undefined,
      WAIT,
    );
    expect(await intruder.textContent("#join-error")).toBe(
      'nickname "ada" is already taken by someone who is online; choose another one',
    );
    expect(await intruder.$eval("#app", (grid) => (grid as HTMLElement).hidden)).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await intruder.screenshot({ path: `${ARTIFACTS}demo-join-taken.png` });
    await context.close();
  });

  it("shows a chat message from one browser in every browser", async () => {
    await say("ada", "hello from ada");
    await say("grace", "hi ada, grace here");
    for (const nick of Object.keys(pages)) {
      await waitForText(page(nick), "messages", "hi ada, grace here");
      expect(await texts(page(nick), "messages")).toEqual(["hello from ada", "hi ada, grace here"]);
    }
  });

  it("delivers a direct message only to its target (and the sender)", async () => {
    await page("ada").selectOption("#dm-to", "grace");
    await page("ada").fill("#dm-text", "a secret for grace");
    await page("ada").click("#dm-form button");
    await waitForText(page("grace"), "dms", "a secret for grace");
    await waitForText(page("ada"), "dms", "a secret for grace");
    // Events reach a client in the order they were sent: once linus has the next chat
    // message, he would also have had the direct message.
    await say("ada", "after the secret");
    await waitForText(page("linus"), "messages", "after the secret");
    expect(await texts(page("linus"), "dms")).toEqual([]);
    const linusGot = await page("linus").evaluate(() =>
      (window as unknown as { seDemo: { received: { type: string }[] } }).seDemo.received.filter(
        (event) => event.type === "dm",
      ),
    );
    expect(linusGot).toEqual([]);
  });

  it("streams a job's progress bar to 100 %", async () => {
    await page("linus").click("#job-start");
    await page("linus").waitForFunction(
      () => document.getElementById("job-percent")?.textContent === "100 %",
      undefined,
      WAIT,
    );
    expect(await page("linus").$eval("#job-fill", (bar) => bar.style.width)).toBe("100%");
    expect(await page("ada").$eval("#job-progress", (bar) => (bar as HTMLElement).hidden)).toBe(
      true,
    );
  });

  it("replays what a page missed while its stream was cut, exactly once", async () => {
    const token = await page("grace").evaluate(
      () => (window as unknown as { seDemo: { token: string } }).seDemo.token,
    );
    const post = (path: string, body: object) =>
      fetch(new URL(path, url), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });

    const dropped = await (await post("test/drop-streams", {})).json();
    expect(dropped.dropped).toBe(3);
    // Wait until the server has let go of every stream; browsers retry after 1 s.
    await expect
      .poll(async () => (await (await fetch(new URL("stats", url))).json()).connectionsOpen, WAIT)
      .toBe(0);
    const missed = ["missed one", "missed two", "missed three"];
    for (const text of missed) expect((await post("messages", { text })).status).toBe(200);
    expect((await post("dm", { to: "ada", text: "missed secret" })).status).toBe(200);

    for (const nick of Object.keys(pages)) {
      await waitForText(page(nick), "messages", "missed three");
      await waitForStatus(page(nick), "live");
      const all = await texts(page(nick), "messages");
      for (const text of [...missed, "hello from ada", "after the secret"]) {
        expect(
          all.filter((shown) => shown === text),
          `${nick}: "${text}"`,
        ).toHaveLength(1);
      }
      const ids = await page(nick).evaluate(() =>
        (window as unknown as { seDemo: { received: { id: string }[] } }).seDemo.received.map(
          (event) => event.id,
        ),
      );
      expect(new Set(ids).size, `${nick} got a message twice`).toBe(ids.length);
      const statuses = await page(nick).evaluate(
        () => (window as unknown as { seDemo: { statusLog: string[] } }).seDemo.statusLog,
      );
      expect(statuses.slice(-2), `${nick}'s indicator`).toEqual(["reconnecting", "live"]);
    }
    // The direct message sent while ada was away reached ada and grace, not linus.
    for (const nick of ["ada", "grace"]) {
      await waitForText(page(nick), "dms", "missed secret");
      const dms = await texts(page(nick), "dms");
      expect(dms).toEqual(["a secret for grace", "missed secret"]);
    }
    expect(await texts(page("linus"), "dms")).toEqual([]);
    const stats = await (await fetch(new URL("stats", url))).json();
    expect(stats.eventsReplayed).toBeGreaterThanOrEqual(9);
    expect(stats.connectionsOpen).toBe(3);
    // The panel shows the same numbers, within a refresh (every 2 s): three streams opened
    // at the start, cut (client-gone), and opened again.
    await expect
      .poll(() => statsPanel(page("ada")), WAIT)
      .toEqual({
        connections: "3",
        clients: "3",
        opened: "6",
        closed: "client-gone 3",
        refused: "0",
        events: String(stats.eventsSent),
        replayed: String(stats.eventsReplayed),
        resets: "0",
        backplane: "none",
      });
    const metrics = await (await fetch(new URL("metrics", url))).text();
    expect(metrics).toContain('se_connections_closed_total{reason="client-gone"} 3\n');
    expect(metrics).toContain(`se_events_sent_total ${stats.eventsSent}\n`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page("ada").screenshot({ path: `${ARTIFACTS}demo-ada.png`, fullPage: true });
    await page("linus").screenshot({ path: `${ARTIFACTS}demo-linus.png`, fullPage: true });
  });

  it("reloads its state when the server can no longer replay (se-reset)", async () => {
    const small = await buildApp({
      logger: false,
      testRoutes: true,
      retry: 500,
      history: { maxEvents: 2 },
    });
    try {
      await small.listen({ port: 0, host: "127.0.0.1" });
      const address = small.server.address();
      if (address === null || typeof address === "string") throw new Error("no TCP address");
      const base = `http://127.0.0.1:${address.port}/`;
      const context = await browser.newContext();
      const kate = await context.newPage();
      await kate.goto(base);
      await kate.fill("#nick", "kate");
      await kate.click("#join-form button");
      await waitForStatus(kate, "live");
      const token = await kate.evaluate(
        () => (window as unknown as { seDemo: { token: string } }).seDemo.token,
      );
      await fetch(new URL("test/drop-streams", base), { method: "POST" });
      await expect
        .poll(
          async () => (await (await fetch(new URL("stats", base))).json()).connectionsOpen,
          WAIT,
        )
        .toBe(0);
      const sent = ["r1", "r2", "r3", "r4", "r5"];
      for (const text of sent) {
        await fetch(new URL("messages", base), {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ text }),
        });
      }
      await waitForText(kate, "messages", "r5");
      expect(await texts(kate, "messages")).toEqual(sent);
      expect((await (await fetch(new URL("stats", base))).json()).resets).toEqual({
        "history-gap": 1,
      });
      await expect.poll(async () => (await statsPanel(kate)).resets, WAIT).toBe("history-gap 1");
      await context.close();
    } finally {
      await small.close();
    }
  });
});
