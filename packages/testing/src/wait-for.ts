import { WaitTimeoutError } from "./errors.js";

/**
 * Polls `condition` every 10 ms until it holds (for state that is not an event: a registry
 * size, a row in a database).
 * @throws {WaitTimeoutError} it did not hold within `timeoutMs`; the message names `what`
 * @example
 * await waitFor(() => app.se.stats().connections === 0, "every stream to close");
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!(await condition())) throw new WaitTimeoutError(what, timeoutMs);
}
