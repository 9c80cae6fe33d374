import { readFileSync } from "node:fs";

/** The deployment guide these tests hold to its word. */
export const DEPLOY_DOC = new URL("../../../docs/deploy.md", import.meta.url);

/** The app's address in the guide's config blocks, replaced by the test app's. */
const DOC_UPSTREAM = "http://127.0.0.1:3000";

/**
 * The first ```nginx block of docs/deploy.md (the recommended `location`), proxying to
 * `upstream`: the test runs the config the reader copies.
 */
export function recommendedLocation(upstream: string): string {
  const block = /```nginx\n([\s\S]*?)```/.exec(readFileSync(DEPLOY_DOC, "utf8"))?.[1];
  if (block === undefined) throw new Error("docs/deploy.md has no ```nginx block");
  if (!block.includes(DOC_UPSTREAM))
    throw new Error(`the nginx block does not proxy to ${DOC_UPSTREAM}`);
  return block.replaceAll(DOC_UPSTREAM, upstream);
}
