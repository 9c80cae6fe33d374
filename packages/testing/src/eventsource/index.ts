export { EventClient, type Received } from "./event-client.js";
export { nextEvent } from "./next-event.js";
