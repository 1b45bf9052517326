/**
 * A string of its own: V8 keeps a substring of 13 or more characters as a slice of its parent (a
 * decoded chunk or a whole raw file), so a long-lived substring keeps the whole parent alive; a copy
 * through bytes does not.
 */
export function ownCopy(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}
