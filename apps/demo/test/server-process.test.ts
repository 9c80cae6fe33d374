import { randomUUID } from "node:crypto";
import { waitFor } from "@se/testing";
import { deleteKeys, REDIS_URL, redisAvailable } from "@se/testing/redis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type DemoProcess, startProcess } from "./demo-process.js";
import { StreamClient } from "./stream-client.js";

async function join(base: string, nick: string): Promise<string> {
  const response = await fetch(new URL("join", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nick }),
  });
  return ((await response.json()) as { token: string }).token;
}

async function say(base: string, token: string, text: string): Promise<void> {
  const response = await fetch(new URL("messages", base), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ text }),
  });
  expect(response.status).toBe(200);
}

const streamUrl = (base: string, token: string) =>
  new URL(`events?token=${encodeURIComponent(token)}`, base).href;

describe("the demo server process (node dist/server.js, as `pnpm demo` runs it)", () => {
  const running: DemoProcess[] = [];
  const clients: StreamClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const demo of running.splice(0)) await demo.stop("SIGKILL");
  });

  it("listens on PORT and HOST, prints its URL, and stops cleanly on Ctrl-C (SIGINT)", async () => {
    const demo = await startProcess({ PORT: "0", HOST: "127.0.0.1" });
    running.push(demo);
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(demo.url).not.toMatch(/:0$/);
    const base = `${demo.url}/`;
    expect((await fetch(base)).status).toBe(200);

    const ada = await StreamClient.open(streamUrl(base, await join(base, "ada")));
    clients.push(ada);
    await say(base, await join(base, "grace"), "hello");
    await ada.waitForText("hello");

    // Ctrl-C under pnpm delivers SIGINT twice: from the terminal and forwarded by pnpm.
    demo.child.kill("SIGINT");
    expect(await demo.stop("SIGINT")).toBe(0);
    // The stream got the app's closing event before it ended.
    await waitFor(() => ada.received.some((event) => event.type === "shutdown"), "shutdown");
    expect(demo.output()).toMatch(/client disconnected/);
  });

  it("exits with code 0 on a Ctrl-C right after it printed its URL", async () => {
    const demo = await startProcess({ PORT: "0", HOST: "127.0.0.1" });
    running.push(demo);
    expect(await demo.stop("SIGINT")).toBe(0);
  });

  describe.skipIf(!redisAvailable)("with REDIS_URL", () => {
    const prefix = `se-test:demo:${randomUUID()}:`;
    afterAll(() => deleteKeys(prefix));

    it("two processes on two ports share one chat", async () => {
      const env = { PORT: "0", HOST: "127.0.0.1", REDIS_URL, REDIS_PREFIX: prefix };
      const one = await startProcess(env);
      running.push(one);
      const two = await startProcess(env);
      running.push(two);
      expect(one.url).not.toBe(two.url);
      expect(one.output()).toMatch(/sharing events through Redis/);

      const grace = await StreamClient.open(
        streamUrl(`${two.url}/`, await join(`${two.url}/`, "grace")),
      );
      clients.push(grace);
      await say(`${one.url}/`, await join(`${one.url}/`, "ada"), "from process one");
      await grace.waitForText("from process one");
      expect(grace.texts("chat")).toEqual(["from process one"]);

      expect(await one.stop("SIGINT")).toBe(0);
      expect(await two.stop("SIGINT")).toBe(0);
    });
  });
});
