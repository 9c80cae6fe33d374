/**
 * Makes V8 store `text` as one flat string and returns it.
 *
 * Strings built by concatenation are ropes (cons strings): `crypto.randomUUID()` returns a
 * rope of ~20 hex pieces (≈ 450 B instead of ≈ 60 B flat). A seid lives as long as its
 * connection (as `Connection.seid` and as the registry key), so keeping the rope costs
 * hundreds of bytes per idle connection. Reading a character makes V8 flatten the rope in
 * place: every holder of this string object then points at the flat copy and the pieces
 * are freed. Harmless (and cheap) for strings that are already flat.
 * @internal
 */
export function flattenString(text: string): string {
  text.charCodeAt(0);
  return text;
}
