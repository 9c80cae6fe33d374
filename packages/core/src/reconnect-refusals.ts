/** Seids kept at most, so a caller cannot grow the set without bound; the oldest go first. */
const MAX_REFUSALS = 100_000;

/**
 * Seids whose connects are refused for a while after `hub.disconnect(…, { refuseReconnectMs })`,
 * so their clients are answered `204` and stop reconnecting. @internal
 */
export class ReconnectRefusals {
  /** seid → until when (ms since the epoch), oldest first. */
  readonly #until = new Map<string, number>();

  /** Refuses `seid` for `ms` from now (0 does nothing). */
  add(seid: string, ms: number): void {
    if (ms <= 0) return;
    this.#until.delete(seid);
    this.#until.set(seid, Date.now() + ms);
    if (this.#until.size > MAX_REFUSALS) {
      const oldest = this.#until.keys().next().value;
      if (oldest !== undefined) this.#until.delete(oldest);
    }
  }

  /** Whether a connect of `seid` is refused now. */
  refuses(seid: string): boolean {
    if (this.#until.size === 0) return false;
    const until = this.#until.get(seid);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#until.delete(seid);
    return false;
  }
}
