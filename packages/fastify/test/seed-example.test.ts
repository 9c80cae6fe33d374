import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { SE } from "../src/index.js";
import { listen, record, until } from "./helpers.js";

// The seed README's example, as written, with a log sink to see what it reports.
describe("the seed README example", () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it("reaches an EventSource exactly: object data as JSON, event names intact, then ends", async () => {
    const logs: Array<Record<string, unknown>> = [];
    app = Fastify({
      forceCloseConnections: true, // the eventsource client leaves a spare idle socket open
      logger: {
        level: "error",
        stream: { write: (line: string) => logs.push(JSON.parse(line)) },
      },
    });
    const se = new SE({
      seidGenerator: (request) =>
        (request.query as { seid?: string }).seid ?? globalThis.crypto.randomUUID(),
    });
    await app.register(se.plugin);

    // biome-ignore lint/complexity/useArrowFunction: the seed README's code, verbatim
    // biome-ignore lint/correctness/noUnusedFunctionParameters: the seed README's code, verbatim
    app.get("/events", function (request, reply) {
      reply.sendEvent("hello world", "greeting");

      // OR data with type object

      reply.sendEvent(
        {
          from: "@other_people",
          message: "hey guy",
          date: "x-x-x-x",
        },
        "new_private_message",
      );

      // If you want to trigger event for other client

      reply.sendEventBySeid(
        "@my_friend", // Your custom seid
        {
          from: "@my_friend",
          message: "my name is x",
        },
        "send_new_message",
      );

      // Important
      reply.endEvent();

      // reply.sendEvent will throw error if you call it in here
      reply.sendEvent("hello world", "greeting");
    });
    app.get("/friend-stream", (_request, reply) => {
      reply.sse.open();
    });
    const base = await listen(app);

    const friend = record(`${base}/friend-stream?seid=%40my_friend`, ["send_new_message"]);
    await friend.opened;
    expect(se.clients.has("@my_friend")).toBe(true);

    const me = record(`${base}/events`, ["greeting", "new_private_message", "message"]);
    await until(() => me.events.length >= 2, "the two events of the handler");
    await until(() => friend.events.length >= 1, "the friend's event");

    expect(me.events.map(({ type, data }) => ({ type, data }))).toEqual([
      { type: "greeting", data: "hello world" },
      {
        type: "new_private_message",
        data: JSON.stringify({ from: "@other_people", message: "hey guy", date: "x-x-x-x" }),
      },
    ]);
    expect(JSON.parse(friend.events[0]?.data ?? "")).toEqual({
      from: "@my_friend",
      message: "my name is x",
    });
    expect(friend.events[0]?.type).toBe("send_new_message");

    // The last sendEvent threw a coded error, which Fastify logged; nothing crashed.
    await until(
      () => logs.some((line) => (line.err as { code?: string })?.code !== undefined),
      "the log",
    );
    const logged = logs.find((line) => (line.err as { code?: string })?.code);
    expect((logged?.err as { code?: string } | undefined)?.code).toBe("FST_ERR_SE_STREAM_ENDED");
    expect(logs.some((line) => String(line.msg).includes("FST_ERR_REP_ALREADY_SENT"))).toBe(false);
    me.source.close();
    friend.source.close();
  });
});
