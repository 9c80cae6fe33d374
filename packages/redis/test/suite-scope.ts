import { EventClient } from "@se/testing/eventsource";
import { deleteKeys, uniquePrefix } from "@se/testing/redis";
import { afterAll, afterEach, beforeAll, expect } from "vitest";

/** Something a test opened and the suite closes. */
export interface Closable {
  close(): unknown;
}

/**
 * Sets up a Redis suite's cleanup; call it inside `describe`. Tests push what they open onto
 * `opened`, which is closed after each test, last opened first; every key under `prefix` is
 * deleted after the suite. With `failOnUnhandledRejection`, an unhandled rejection during a
 * test fails it (for tests that cut Redis on purpose).
 */
export function suiteScope(
  scope?: string,
  { failOnUnhandledRejection = false } = {},
): { prefix: string; opened: Closable[] } {
  const prefix = uniquePrefix(scope);
  const opened: Closable[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  beforeAll(() => {
    if (failOnUnhandledRejection) process.on("unhandledRejection", onRejection);
  });
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
    expect(rejections.splice(0), "unhandled rejections").toEqual([]);
  });
  afterAll(async () => {
    process.off("unhandledRejection", onRejection);
    await deleteKeys(prefix);
  });
  return { prefix, opened };
}

/** Opens an `EventClient` that also records `se-reset`, closed with the suite's `opened`. */
export async function openClient(
  opened: Closable[],
  url: string,
  lastEventId?: string,
): Promise<EventClient> {
  const client = await EventClient.open(url, {
    types: ["se-reset"],
    ...(lastEventId ? { lastEventId } : {}),
  });
  opened.push(client);
  return client;
}
