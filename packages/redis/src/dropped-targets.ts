import type { Target } from "@se/core";

const ALL: Target = { kind: "all" };

/**
 * The targets of sends that could not be ordered (Redis away, or a script call that failed):
 * each becomes a gap entry once Redis is back. Bounded: past `max` distinct targets, one gap
 * for everyone (`all`) replaces them. @internal
 */
export class DroppedTargets {
  readonly max: number;
  readonly #targets = new Map<string, Target>();

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.#targets.size;
  }

  add(target: Target): void {
    if (this.#targets.has("all")) return;
    const key = targetKey(target);
    if (key === "all" || (!this.#targets.has(key) && this.#targets.size >= this.max)) {
      this.#targets.clear();
      this.#targets.set("all", ALL);
      return;
    }
    this.#targets.set(key, target);
  }

  /** Every target added since the last call, and forgets them. */
  take(): Target[] {
    const targets = [...this.#targets.values()];
    this.#targets.clear();
    return targets;
  }
}

function targetKey(target: Target): string {
  switch (target.kind) {
    case "seid":
      return `seid:${target.seid}`;
    case "topic":
      return `topic:${target.topic}`;
    case "connection":
      return `connection:${target.serial}`;
    default:
      return "all";
  }
}
