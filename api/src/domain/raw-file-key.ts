import { randomUUID } from "node:crypto";

/**
 * The key of one file the api writes under `raw/`: `<prefix>dt=YYYY-MM-DD/<time>-<task>-<seq>-<rand>.csv`.
 * The task's id and its sequence number keep tasks (and one task's flushes) from overwriting each other.
 */
export function rawFileKey(prefix: string, instanceId: string, sequence: number, now: number): string {
  const iso = new Date(now).toISOString();
  const stamp = iso.replaceAll(/[-:.]/g, "");
  return `${prefix}dt=${iso.slice(0, 10)}/${stamp}-${instanceId}-${String(sequence).padStart(6, "0")}-${randomUUID().slice(0, 8)}.csv`;
}
