import createError from "@fastify/error";

/** `reply.sendEvent` (or `reply.sse.send`) after the stream ended. */
export const FST_ERR_SE_STREAM_ENDED = createError(
  "FST_ERR_SE_STREAM_ENDED",
  "Cannot send on this reply: its event stream has ended (reply.endEvent() was called or the client went away). Check reply.sse.closed, or listen to reply.sse.signal, before sending.",
  500,
);

/** The reply was already sent another way, so it cannot become an event stream. */
export const FST_ERR_SE_REPLY_SENT = createError(
  "FST_ERR_SE_REPLY_SENT",
  "Cannot open an event stream: this reply was already sent. Call reply.sendEvent() or reply.sse.open() before reply.send(), and do not return a value from the handler.",
  500,
);

/** A `seidGenerator` returned something that is not a non-empty string. */
export const FST_ERR_SE_INVALID_SEID = createError(
  "FST_ERR_SE_INVALID_SEID",
  "seidGenerator must return (or resolve, or call back with) a non-empty string, got %s.",
  500,
);

/** The same `SE` instance was registered twice. */
export const FST_ERR_SE_ALREADY_REGISTERED = createError(
  "FST_ERR_SE_ALREADY_REGISTERED",
  "This SE instance is already registered on a Fastify app; create one SE per app.",
  500,
);

/**
 * What the client sent cannot open a stream: a `Last-Event-ID` that is too long or not printable
 * ASCII, or a seid/topic past the documented limits. The message names the field and the rule,
 * never the value.
 */
export const FST_ERR_SE_BAD_REQUEST = createError("FST_ERR_SE_BAD_REQUEST", "%s", 400);

/** A seid already holds `maxConnectionsPerSeid` connections on this instance (with `Retry-After`). */
export const FST_ERR_SE_TOO_MANY_CONNECTIONS = createError(
  "FST_ERR_SE_TOO_MANY_CONNECTIONS",
  "%s Close another tab or try again after Retry-After seconds.",
  429,
);

/** This instance already holds `maxConnections` connections (with `Retry-After`). */
export const FST_ERR_SE_INSTANCE_FULL = createError(
  "FST_ERR_SE_INSTANCE_FULL",
  "%s Try again after Retry-After seconds (or another instance).",
  503,
);

/**
 * This seid was disconnected with `refuseReconnectMs` a moment ago: the plugin has answered
 * `204 No Content` (an `EventSource` stops reconnecting) and thrown this to stop the handler.
 * The plugin's handler wrapper swallows it; catch it only to clean up.
 */
export const FST_ERR_SE_RECONNECT_REFUSED = createError(
  "FST_ERR_SE_RECONNECT_REFUSED",
  "%s Answered 204 No Content.",
  500,
);
