import { redisBackplane } from "@se/redis";
import { deleteKeys, REDIS_URL, redisAvailable, uniquePrefix } from "@se/testing/redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChannelWatcher } from "./channel-watcher.js";
import { type DemoInstance, startDemo } from "./demo-instance.js";
import { StreamClient } from "./stream-client.js";

// Issue #5: "If REDIS_URL is set, two demo processes on two ports share one chat" — here as
// two apps built as server.ts builds them with REDIS_URL set (same backplane and history).
describe.skipIf(!redisAvailable)("two demo instances sharing Redis", () => {
  const prefix = uniquePrefix("demo");
  const opened: { close(): unknown }[] = [];
  let a: DemoInstance;
  let b: DemoInstance;
  let watcher: ChannelWatcher;
  let fences = 0;

  async function instance(): Promise<DemoInstance> {
    const backplane = redisBackplane({ url: REDIS_URL, prefix });
    const demo = await startDemo({ backplane, history: backplane.history(), heartbeatMs: 60_000 });
    opened.push(demo);
    return demo;
  }

  async function connect(demo: DemoInstance, nick: string, lastEventId?: string) {
    const token = await demo.join(nick);
    const client = await StreamClient.open(demo.streamUrl(token), lastEventId);
    opened.push(client);
    return { token, client };
  }

  /**
   * Waits until every event sent so far has reached (or could have reached) `clients`:
   * once the watcher saw `texts`, a fence chat from each instance that reaches every client
   * comes after them, and after any echo of them, in the one order Redis publishes in.
   */
  async function settle(texts: string[], clients: StreamClient[]): Promise<void> {
    for (const text of texts) await watcher.published(text);
    const round = ++fences;
    const fencesSent: string[] = [];
    for (const [name, demo] of [
      ["a", a],
      ["b", b],
    ] as const) {
      const text = `fence-${round}-${name}`;
      await demo.post("messages", await demo.join(`fencer-${round}`), { text });
      fencesSent.push(text);
    }
    for (const client of clients) for (const text of fencesSent) await client.waitForText(text);
  }

  const real = (texts: (string | undefined)[]) => texts.filter((t) => !t?.startsWith("fence-"));

  beforeAll(async () => {
    a = await instance();
    b = await instance();
    watcher = await ChannelWatcher.start(REDIS_URL, `${prefix}events`);
  });
  afterEach(async () => {
    // Keeps the two instances (opened first) for the next test; closes the clients.
    for (const item of opened.splice(2).reverse()) await item.close();
  });
  afterAll(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
    await watcher?.close();
    await deleteKeys(prefix);
  });

  it("reports the Redis backplane up in GET /stats (the stats panel) and GET /metrics", async () => {
    for (const demo of [a, b]) {
      const stats = await (await fetch(new URL("stats", demo.base))).json();
      expect(stats).toMatchObject({ backplaneUp: true, backplaneErrors: 0 });
      const metrics = await (await fetch(new URL("metrics", demo.base))).text();
      expect(metrics).toContain("\nse_backplane_up 1\n");
    }
  });

  it("shows a chat message posted on one instance to clients of both, exactly once", async () => {
    const ada = await connect(a, "ada");
    const grace = await connect(b, "grace");
    const linus = await connect(b, "linus");

    await a.post("messages", ada.token, { text: "hello from A" });
    await b.post("messages", grace.token, { text: "hello from B" });
    const everyone = [ada.client, grace.client, linus.client];
    await settle(["hello from A", "hello from B"], everyone);

    for (const client of everyone) {
      expect(real(client.texts("chat")).sort()).toEqual(["hello from A", "hello from B"]);
      const ids = client.received.map((event) => event.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it("delivers a direct message to its target on the other instance only", async () => {
    const ada = await connect(a, "ada2");
    const grace = await connect(b, "grace2");
    const linus = await connect(b, "linus2");
    const carol = await connect(a, "carol2");

    await a.post("dm", ada.token, { to: "grace2", text: "a secret for grace" });
    await settle(["a secret for grace"], [ada.client, grace.client, linus.client, carol.client]);

    expect(grace.client.texts("dm")).toEqual(["a secret for grace"]);
    expect(ada.client.texts("dm")).toEqual(["a secret for grace"]); // the sender's own copy
    expect(linus.client.texts("dm")).toEqual([]);
    expect(carol.client.texts("dm")).toEqual([]);
  });

  it("replays what a client missed after it reconnects to the other instance", async () => {
    const ada = await connect(a, "ada3");
    const grace = await connect(b, "grace3");
    const linus = await connect(b, "linus3");
    await a.post("messages", ada.token, { text: "seen by grace" });
    await grace.client.waitForText("seen by grace");
    grace.client.close();
    const lastSeen = grace.client.lastEventId;
    expect(lastSeen).toBeDefined();

    // Each send is awaited in Redis before the next, so the history order is the send order.
    const missed: [DemoInstance, string, string, object][] = [
      [a, ada.token, "messages", { text: "missed 1" }],
      [a, ada.token, "dm", { to: "grace3", text: "missed secret" }],
      [b, linus.token, "messages", { text: "missed 2" }],
      [a, ada.token, "dm", { to: "linus3", text: "not for grace" }],
      [a, ada.token, "messages", { text: "missed 3" }],
    ];
    for (const [demo, token, path, body] of missed) {
      await demo.post(path, token, body);
      await watcher.published((body as { text: string }).text);
    }

    const back = await connect(a, "grace3", lastSeen);
    await back.client.waitForText("missed 3");
    await a.post("messages", ada.token, { text: "live on A" });
    await b.post("messages", linus.token, { text: "live on B" });
    await settle(["live on A", "live on B"], [back.client]);

    expect(real(back.client.texts("chat"))).toEqual([
      "missed 1",
      "missed 2",
      "missed 3",
      "live on A",
      "live on B",
    ]);
    expect(back.client.texts("dm")).toEqual(["missed secret"]);
    const ids = back.client.received.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort());
    expect(ids.every((id) => id > (lastSeen as string))).toBe(true);
    expect(back.client.received.some((event) => event.type === "se-reset")).toBe(false);
  });
});
