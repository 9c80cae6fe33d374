import type { RegisteredEvents, SendEvent, SendEventBySeid } from "./event-map.js";
import type { ReplySse } from "./reply-sse.js";
import type { SE } from "./se.js";
import { sePlugin } from "./se-plugin.js";

export {
  FST_ERR_SE_ALREADY_REGISTERED,
  FST_ERR_SE_BAD_REQUEST,
  FST_ERR_SE_INSTANCE_FULL,
  FST_ERR_SE_INVALID_SEID,
  FST_ERR_SE_RECONNECT_REFUSED,
  FST_ERR_SE_REPLY_SENT,
  FST_ERR_SE_STREAM_ENDED,
  FST_ERR_SE_TOO_MANY_CONNECTIONS,
} from "./errors.js";
export type {
  AnyEvents,
  EventId,
  EventMap,
  Register,
  RegisteredEvents,
  SendEvent,
  SendEventBySeid,
  TypedMessage,
  UnnamedData,
} from "./event-map.js";
export { ReplySse, type ReplySseOpenOptions } from "./reply-sse.js";
export { SE, type SEOptions } from "./se.js";
export type { SeidCallback, SeidGenerator } from "./seid-generator.js";
export { sePlugin };
export default sePlugin;

declare module "fastify" {
  interface FastifyRequest {
    /** Server event id of this client; set on every GET request, `null` on others. */
    seid: string | null;
  }
  interface FastifyReply {
    /** Sends an event on this reply's stream, opening it on first use. */
    sendEvent: SendEvent<RegisteredEvents>;
    /** Sends an event to every connection of `seid`; true when delivered or published. */
    sendEventBySeid: SendEventBySeid<RegisteredEvents>;
    /** Ends this reply's stream and removes the client; later `sendEvent` throws. */
    endEvent(): void;
    /** The modern API of this reply's event stream. */
    sse: ReplySse<RegisteredEvents>;
  }
  interface FastifyInstance {
    /** The app's SE: send and broadcast from anywhere, stats, clients. */
    se: SE<RegisteredEvents>;
  }
}
