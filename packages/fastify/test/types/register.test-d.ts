// Type tests with a registered event map: `tsc -p test/types` fails if a wrong payload is accepted.
import Fastify from "fastify";
import { SE } from "../../src/index.js";

interface ChatEvents {
  greeting: string;
  new_private_message: { from: string; message: string };
  message: { text: string };
}

declare module "../../src/index.js" {
  interface Register {
    events: ChatEvents;
  }
}

const app = Fastify();
const se = new SE<ChatEvents>();
await app.register(se.plugin);

app.get("/events", (request, reply) => {
  const seid: string | null = request.seid;
  reply.sendEvent("hello world", "greeting");
  reply.sendEvent({ from: "@a", message: "hey" }, "new_private_message", "id-1", 1000);
  reply.sendEvent({ text: "unnamed is 'message'" });
  // @ts-expect-error greeting carries a string
  reply.sendEvent(42, "greeting");
  // @ts-expect-error missing "message"
  reply.sendEvent({ from: "@a" }, "new_private_message");
  // @ts-expect-error unknown event name
  reply.sendEvent("x", "nope");
  // @ts-expect-error retry is a number
  reply.sendEvent("hi", "greeting", 1, "soon");

  reply.sse.send({ event: "greeting", data: "typed" });
  reply.sse.send({ data: { text: "unnamed" }, id: 3 });
  // @ts-expect-error data does not match the event
  reply.sse.send({ event: "greeting", data: { text: "no" } });

  const ok: boolean = reply.sendEventBySeid(seid ?? "x", "hi", "greeting");
  // @ts-expect-error wrong payload for a seid send
  reply.sendEventBySeid("x", 1, "greeting");
  void ok;
});

app.se.broadcast({ event: "new_private_message", data: { from: "a", message: "b" } });
// @ts-expect-error wrong payload in a broadcast
app.se.broadcast({ event: "new_private_message", data: "plain" });
se.send("alice", { event: "greeting", data: "hi" });
// @ts-expect-error wrong payload on the SE instance
se.sendEventBySeid("alice", { text: 1 }, "greeting");
