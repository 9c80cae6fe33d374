/** Who an event is addressed to. */
export type Target =
  | { readonly kind: "all" }
  | { readonly kind: "seid"; readonly seid: string }
  | { readonly kind: "topic"; readonly topic: string }
  | { readonly kind: "connection"; readonly serial: number };

/** Whether an event addressed to `target` is meant for a client with this seid and topics. */
export function targetMatches(target: Target, seid: string, topics: ReadonlySet<string>): boolean {
  switch (target.kind) {
    case "all":
      return true;
    case "seid":
      return target.seid === seid;
    case "topic":
      return topics.has(target.topic);
    default:
      return false;
  }
}
