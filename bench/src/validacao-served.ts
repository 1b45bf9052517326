/**
 * The served path at each validacao reader's first visit (docs/quality.md, "What a static list can
 * reach"): the api's world rebuilt with the portal's reads before the visit fed as `/events` clicks,
 * beside the static list of the snapshot's world. The world is rebuilt at each hour's start (the api
 * rebuilds every minute or so): a visit is served the world of its hour's start, with the reads before
 * it, so an article issued or read within the hour before the visit is missed (pessimistic by at most
 * an hour).
 */
import type { FirstVisit } from "./validacao-reach.js";

export interface ServedPathInputs {
  /** The readers, by first visit. */
  visits: readonly FirstVisit[];
  /** Every read of the portal (treino and validacao), by time. */
  reads: readonly { page: string; timestamp: number }[];
  /** The world is rebuilt at each multiple of this (ms). */
  rebuildEveryMs: number;
  /** Counts one read as `/events` does (the live popularity). */
  observe(read: { page: string; timestamp: number }): void;
  /** Rebuilds the served world with the reads observed so far. */
  rebuild(): void;
  /** The list the current world serves a reader (10 pages, its reads excluded). */
  listOf(visit: FirstVisit): readonly string[];
}

/** Readers with a target in the list the served path gave them at their first visit. */
export function servedPathHits(inputs: ServedPathInputs): number {
  let next = 0;
  let built = Number.NaN;
  let hits = 0;
  for (const visit of inputs.visits) {
    const start = Math.floor(visit.first / inputs.rebuildEveryMs) * inputs.rebuildEveryMs;
    if (start !== built) {
      while (next < inputs.reads.length && (inputs.reads[next] as { timestamp: number }).timestamp < start)
        inputs.observe(inputs.reads[next++] as { page: string; timestamp: number });
      inputs.rebuild();
      built = start;
    }
    if (inputs.listOf(visit).some((page) => visit.targets.has(page))) hits++;
  }
  return hits;
}
