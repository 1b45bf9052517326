/**
 * What a served list could reach in the validacao days: of the new reads there (the targets the
 * quality bench scores), how many are of articles issued after the snapshot, and how many of those
 * were already issued when the reader's first validacao visit began (so an api that admitted articles
 * as the itens files deliver them, at the request's time, could propose them). Beside it, HR@10 of two
 * of the simplest such lists at that first visit, unread by the reader: the 10 newest articles, and the
 * 10 most read among the portal's latest reads before the visit (what `/events` would tell an api).
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
  /** Every read of the portal (treino and validacao), by time. */
  reads: readonly { page: string; timestamp: number }[];
  /** How many of the latest reads make the online buffer (default 1,000). */
  bufferReads?: number;
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
  /** …among the 10 unread articles most read in the portal's latest reads before that access. */
  onlineBufferHits: number;
}

export function validacaoReach(inputs: ReachInputs): Reach {
  const byIssue = [...inputs.issued].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const reach: Reach = {
    readers: 0,
    targets: 0,
    issuedAfterSnapshot: 0,
    issuedBeforeFirstVisit: 0,
    newestTenHits: 0,
    onlineBufferHits: 0,
  };
  const bufferReads = inputs.bufferReads ?? 1_000;
  for (const { read, targets, first } of firstVisits(inputs.validation, inputs.readBefore)) {
    reach.readers++;
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
    if (topUnread(bufferBefore(inputs.reads, first, bufferReads), read).some((p) => targets.has(p)))
      reach.onlineBufferHits++;
  }
  return reach;
}

/** A validacao reader with new reads: when its first visit began, what it had read, its targets. */
export interface FirstVisit {
  userId: string;
  first: number;
  read: ReadonlySet<string>;
  /** Pages read in validacao and not before the snapshot (the bench's targets). */
  targets: ReadonlySet<string>;
}

/** The validacao readers with at least one target, by first visit (ties by id). */
export function firstVisits(
  validation: ReachInputs["validation"],
  readBefore: ReachInputs["readBefore"],
): FirstVisit[] {
  const out: FirstVisit[] = [];
  for (const [userId, accesses] of validation) {
    const read = readBefore(userId);
    const targets = new Set(accesses.map((a) => a.page).filter((p) => !read.has(p)));
    if (targets.size === 0) continue;
    let first = Number.POSITIVE_INFINITY;
    for (const a of accesses) first = Math.min(first, a.timestamp);
    out.push({ userId, first, read, targets });
  }
  return out.sort((a, b) => a.first - b.first || (a.userId < b.userId ? -1 : 1));
}

/** Read counts of the `n` latest reads before `time` (`reads` sorted by time). */
function bufferBefore(reads: ReachInputs["reads"], time: number, n: number): Map<string, number> {
  let lo = 0;
  let hi = reads.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((reads[mid] as { timestamp: number }).timestamp < time) lo = mid + 1;
    else hi = mid;
  }
  const counts = new Map<string, number>();
  for (let i = Math.max(0, lo - n); i < lo; i++) {
    const page = (reads[i] as { page: string }).page;
    counts.set(page, (counts.get(page) ?? 0) + 1);
  }
  return counts;
}

/** The 10 most counted pages not in `read` (ties by page id). */
function topUnread(counts: ReadonlyMap<string, number>, read: ReadonlySet<string>): string[] {
  return [...counts]
    .filter(([page]) => !read.has(page))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 10)
    .map(([page]) => page);
}
