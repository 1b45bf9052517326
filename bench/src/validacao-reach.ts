/**
 * What a served list could reach in the validacao days: of the new reads there (the targets the
 * quality bench scores), how many are of articles issued after the snapshot, and how many of those
 * were already issued when the reader's first validacao visit began (so an api that admitted articles
 * as the itens files deliver them, at the request's time, could propose them). Beside it, HR@10 of the
 * simplest such list: the 10 newest articles at that first visit, not yet read by the reader.
 * A static list made at the snapshot, which is what the api serves and training evaluates, can only
 * hit the rest (docs/quality.md, "What a static list can reach").
 */

export interface ReachInputs {
  /** The snapshot's reference time (ms). */
  asOf: number;
  /** Issue time of every article the itens files hold (ms). */
  issued: ReadonlyMap<string, number>;
  /** Per reader: the validacao accesses (page, time in ms). */
  validation: ReadonlyMap<string, readonly { page: string; timestamp: number }[]>;
  /** Per reader: the pages read before the snapshot (their re-reads are not targets). */
  readBefore: (userId: string) => ReadonlySet<string>;
}

export interface Reach {
  readers: number;
  targets: number;
  /** Targets issued at or after the snapshot's reference time. */
  issuedAfterSnapshot: number;
  /** …and before the reader's first validacao access. */
  issuedBeforeFirstVisit: number;
  /** Readers with at least one target among the 10 newest unread articles at their first access. */
  newestTenHits: number;
}

export function validacaoReach(inputs: ReachInputs): Reach {
  const byIssue = [...inputs.issued].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const reach: Reach = {
    readers: 0,
    targets: 0,
    issuedAfterSnapshot: 0,
    issuedBeforeFirstVisit: 0,
    newestTenHits: 0,
  };
  for (const [userId, accesses] of inputs.validation) {
    const read = inputs.readBefore(userId);
    const targets = new Set(accesses.map((a) => a.page).filter((p) => !read.has(p)));
    if (targets.size === 0) continue;
    reach.readers++;
    let first = Number.POSITIVE_INFINITY;
    for (const a of accesses) first = Math.min(first, a.timestamp);
    for (const page of targets) {
      reach.targets++;
      const issued = inputs.issued.get(page);
      if (issued === undefined || issued < inputs.asOf) continue;
      reach.issuedAfterSnapshot++;
      if (issued < first) reach.issuedBeforeFirstVisit++;
    }
    let listed = 0;
    for (const [page, issued] of byIssue) {
      if (issued >= first || read.has(page)) continue;
      if (targets.has(page)) {
        reach.newestTenHits++;
        break;
      }
      if (++listed === 10) break;
    }
  }
  return reach;
}
