import { SeError } from "@se/core";

/**
 * Redis could not be reached (or refused a command). Reported through the hub's `error`
 * event once per outage, never thrown at senders. `cause` holds the ioredis error.
 */
export class RedisUnavailableError extends SeError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(
      "SE_ERR_REDIS_UNAVAILABLE",
      `Redis is unavailable: ${what}. Until the connection is back (it reconnects by itself), sends cannot be ordered and are dropped; the clients they were for are then told to reset.`,
      options,
    );
    this.name = "RedisUnavailableError";
  }
}
