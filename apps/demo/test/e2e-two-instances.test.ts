import { mkdirSync } from "node:fs";
import { redisBackplane } from "@se/redis";
import { deleteKeys, REDIS_URL, redisAvailable, uniquePrefix } from "@se/testing/redis";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, hasBrowser, launchChromium } from "./chromium.js";
import { type DemoInstance, startDemo } from "./demo-instance.js";

const WAIT = { timeout: 10_000 };

// Without Chromium or Redis this is skipped; e2e.test.ts and the Redis env say why, and
// SE_REQUIRE_BROWSER=1 / SE_REQUIRE_REDIS=1 turn those into failures.
describe.runIf(hasBrowser && redisAvailable)("two demo instances in Chromium", () => {
  const prefix = uniquePrefix("demo");
  const instances: DemoInstance[] = [];
  let browser: Browser;

  async function joinPage(demo: DemoInstance, nick: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT.timeout);
    await page.goto(demo.base);
    await page.fill("#nick", nick);
    await page.click("#join-form button");
    await page.waitForFunction(() => document.getElementById("status")?.dataset.state === "live");
    return page;
  }

  function texts(page: Page, list: "messages" | "dms"): Promise<(string | null)[]> {
    return page.$$eval(`#${list} li .text`, (items) => items.map((item) => item.textContent));
  }

  async function waitForText(page: Page, list: "messages" | "dms", text: string): Promise<void> {
    await page.waitForFunction(
      ([id, expected]) =>
        Array.from(document.querySelectorAll(`#${id} li .text`)).some(
          (item) => item.textContent === expected,
        ),
      [list, text] as const,
    );
  }

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const backplane = redisBackplane({ url: REDIS_URL, prefix });
      instances.push(await startDemo({ backplane, history: backplane.history() }));
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const demo of instances) await demo.close();
    await deleteKeys(prefix);
  });

  it("shares one chat, and direct messages, between pages on different instances", async () => {
    const [a, b] = instances as [DemoInstance, DemoInstance];
    const ada = await joinPage(a, "ada");
    const grace = await joinPage(b, "grace");
    const linus = await joinPage(b, "linus");

    await ada.fill("#chat-text", "hello from instance A");
    await ada.click("#chat-form button");
    await grace.fill("#chat-text", "hello from instance B");
    await grace.click("#chat-form button");
    for (const page of [ada, grace, linus]) {
      await waitForText(page, "messages", "hello from instance A");
      await waitForText(page, "messages", "hello from instance B");
    }

    // ada learnt that grace is online from the presence event grace's instance broadcast.
    await ada.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLOptionElement>("#dm-to option")).some(
        (option) => option.value === "grace",
      ),
    );
    await ada.selectOption("#dm-to", "grace");
    await ada.fill("#dm-text", "across instances, for grace");
    await ada.click("#dm-form button");
    await waitForText(grace, "dms", "across instances, for grace");
    // Both come through Redis in send order: once linus has the next chat message, he would
    // also have had the direct message.
    await ada.fill("#chat-text", "after the secret");
    await ada.click("#chat-form button");
    await waitForText(linus, "messages", "after the secret");
    expect(await texts(linus, "dms")).toEqual([]);

    for (const page of [ada, grace, linus]) {
      const shown = await texts(page, "messages");
      expect(new Set(shown).size, "a message shown twice").toBe(shown.length);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await grace.screenshot({ path: `${ARTIFACTS}demo-two-instances-grace.png`, fullPage: true });
  });
});
