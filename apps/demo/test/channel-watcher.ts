import { waitFor } from "@se/testing";
import { Redis } from "ioredis";

/**
 * Listens on a backplane's pub/sub channel like one more instance would. Once it has seen a
 * message, Redis has run the transaction that published it (and stored it in the history),
 * and every instance's subscriber gets it before anything Redis publishes later.
 */
export class ChannelWatcher {
  readonly #messages: string[] = [];
  readonly #redis: Redis;

  private constructor(redis: Redis) {
    this.#redis = redis;
    redis.on("message", (_channel: string, message: string) => this.#messages.push(message));
  }

  static async start(url: string, channel: string): Promise<ChannelWatcher> {
    const redis = new Redis(url);
    await redis.subscribe(channel);
    return new ChannelWatcher(redis);
  }

  /** Waits until a published event's data contains `text` as a JSON string value. */
  published(text: string): Promise<void> {
    const needle = JSON.stringify(JSON.stringify(text)).slice(1, -1);
    return waitFor(() => this.#messages.some((message) => message.includes(needle)), text);
  }

  async close(): Promise<void> {
    await this.#redis.quit();
  }
}
