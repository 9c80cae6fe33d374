// Without a registered map, the seed API takes any data and any event name.
import { SE } from "../../src/index.js";

const se = new SE();
se.sendEventBySeid("x", { any: "thing" }, "any-event", 0, 0);
se.sendEventBySeid("x", "text");
se.broadcast({ data: [1, 2, 3], event: "list" });
// @ts-expect-error retry must be a number
se.sendEventBySeid("x", "text", "e", "id", "1000");
