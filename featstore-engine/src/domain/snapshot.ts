import {
  coldstartListId,
  type Interaction,
  POPULARITY_WINDOWS_HOURS,
  type PopularityWindow,
  type RankedEntry,
} from "@gplay/common";
import { NumberSet } from "./number-set.js";
import { ReaderIdSet } from "./reader-id-set.js";

const HOUR_MS = 3_600_000;
/** The longest popularity window: reads older than this behind the newest count in no list. */
export const POPULARITY_HORIZON_MS = Math.max(...POPULARITY_WINDOWS_HOURS) * HOUR_MS;

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Interns page ids to dense integers so aggregates live in typed arrays. */
export class PageIndex {
  private readonly ids = new Map<string, number>();
  readonly pages: string[] = [];

  id(page: string): number {
    let id = this.ids.get(page);
    if (id === undefined) {
      id = this.pages.length;
      this.ids.set(page, id);
      this.pages.push(page);
    }
    return id;
  }

  get size(): number {
    return this.pages.length;
  }
}

/** Growable typed arrays (amortised doubling). */
class F64List {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export interface ColdstartList {
  listId: string;
  entries: RankedEntry[];
}

export interface ArticleCategory {
  section: string;
  region: string;
}

export interface PopularityRetention {
  /**
   * How far behind the newest read interactions are kept (default: the longest window, 24 h). A longer
   * retention changes no list; it lets an erasure rebuild the lists from the kept reads when the
   * readers it removes held the newest ones (docs/privacy.md, "Speed").
   */
  retainMs?: number;
}

export interface PopularityOptions {
  /** Entries per list (coldstart items hold at most 500). */
  topN?: number;
  /** Decay half-life as a fraction of the window (default 0.5: a read half a window ago counts half). */
  halfLifeFraction?: number;
}

/**
 * Recency-decayed popularity: accumulate interactions in any order, then build the cold-start lists
 * (global, per section, per region × 1 h / 6 h / 24 h) as of the newest timestamp seen. Keeps only
 * the interactions of the last 24 h of the running maximum (pruned as it grows), so memory follows
 * one day of traffic, not the whole history.
 */
export class PopularityAccumulator {
  private readonly pages = new PageIndex();
  private ids = new F64List();
  private times = new F64List();
  private newest = Number.NEGATIVE_INFINITY;
  private pruneAt = 1 << 16;
  private readonly horizonMs: number;

  constructor(options: PopularityRetention = {}) {
    this.horizonMs = Math.max(options.retainMs ?? 0, POPULARITY_HORIZON_MS);
  }

  add(interaction: Pick<Interaction, "page" | "timestamp">): void {
    const t = interaction.timestamp;
    if (t > this.newest) this.newest = t;
    if (t <= this.newest - this.horizonMs) return;
    this.ids.push(this.pages.id(interaction.page));
    this.times.push(t);
    if (this.ids.length >= this.pruneAt) this.prune();
  }

  addAll(interactions: Iterable<Pick<Interaction, "page" | "timestamp">>): void {
    for (const i of interactions) this.add(i);
  }

  /** The as-of time: the newest interaction timestamp (undefined before any). */
  get asOf(): number | undefined {
    return Number.isFinite(this.newest) ? this.newest : undefined;
  }

  /** The reads kept (within the retention behind the newest), as page names and timestamps. */
  retained(): { pages: string[]; times: Float64Array } {
    this.prune();
    const ids = this.ids.view();
    return {
      pages: Array.from(ids, (id) => this.pages.pages[id] as string),
      times: this.times.view().slice(),
    };
  }

  private prune(): void {
    const cutoff = this.newest - this.horizonMs;
    const ids = this.ids.view();
    const times = this.times.view();
    let w = 0;
    for (let r = 0; r < ids.length; r++) {
      if ((times[r] as number) > cutoff) {
        ids[w] = ids[r] as number;
        times[w] = times[r] as number;
        w++;
      }
    }
    this.ids.length = w;
    this.times.length = w;
    this.pruneAt = Math.max(1 << 16, w * 2);
  }

  /**
   * The lists. `categoryOf` gives an article's section and region (pages without one count only
   * globally). Scores: Σ 2^(-age / halfLife) over reads in the window; ties by page id.
   */
  build(
    categoryOf: (page: string) => ArticleCategory | undefined,
    options: PopularityOptions = {},
  ): ColdstartList[] {
    const topN = Math.min(500, options.topN ?? 100);
    const asOf = this.asOf;
    if (asOf === undefined) return [];
    const ids = this.ids.view();
    const times = this.times.view();
    const categories = this.pages.pages.map(categoryOf);
    // Sum in (time, page) order, not arrival order: floating-point sums then match for any input order.
    const order = Uint32Array.from({ length: ids.length }, (_, r) => r).sort(
      (x, y) =>
        (times[x] as number) - (times[y] as number) ||
        compare(this.pages.pages[ids[x] as number] as string, this.pages.pages[ids[y] as number] as string),
    );
    const lists: ColdstartList[] = [];
    for (const windowHours of POPULARITY_WINDOWS_HOURS) {
      const windowMs = windowHours * HOUR_MS;
      const halfLife = windowMs * (options.halfLifeFraction ?? 0.5);
      const scores = new Float64Array(this.pages.size);
      for (const r of order) {
        const age = asOf - (times[r] as number);
        if (age >= windowMs) continue;
        const id = ids[r] as number;
        scores[id] = (scores[id] as number) + 2 ** (-age / halfLife);
      }
      const scopes = new Map<string, number[]>();
      const addTo = (scope: string, id: number) => {
        let list = scopes.get(scope);
        if (list === undefined) {
          list = [];
          scopes.set(scope, list);
        }
        list.push(id);
      };
      for (let id = 0; id < scores.length; id++) {
        if ((scores[id] as number) <= 0) continue;
        addTo("global", id);
        const c = categories[id];
        if (c !== undefined) {
          addTo(`section:${c.section}`, id);
          addTo(`region:${c.region}`, id);
        }
      }
      for (const [scope, members] of scopes) {
        const entries = members
          .sort(
            (a, b) =>
              (scores[b] as number) - (scores[a] as number) ||
              ((this.pages.pages[a] as string) < (this.pages.pages[b] as string) ? -1 : 1),
          )
          .slice(0, topN)
          .map((id) => ({ page: this.pages.pages[id] as string, score: scores[id] as number }));
        lists.push({
          listId: coldstartListId.popular(scope as "global", windowHours as PopularityWindow),
          entries,
        });
      }
    }
    return lists.sort((a, b) => (a.listId < b.listId ? -1 : 1));
  }
}

export interface CovisitationOptions {
  /** Two reads belong to one session when at most this far apart (default 30 min). */
  sessionGapMs?: number;
  /** Neighbours kept per article (default 50, at most 500). */
  topN?: number;
  /** Co-visits held unsorted before they are folded into the counts (default 2^21: 16 MB). */
  foldEvery?: number;
}

/** Pair keys are `a * 2^22 + b`: exact in a double for up to 4,194,304 distinct pages. */
const PAIR_SHIFT = 2 ** 22;

/**
 * Item-to-item co-visitation: each pair of consecutive reads of one reader within the session gap
 * counts once in both directions. A co-visit is kept as one packed key per unordered pair (`a < b` by
 * interning id) in a bounded typed buffer; when full it is sorted and folded into sorted (key, count)
 * arrays, so memory follows the distinct pairs (12 bytes each), not the co-visits: at full scale the
 * old layout (16 bytes a co-visit, both directions, doubled while growing and copied to sort) was
 * ~200–300 MB of the snapshot's peak. No per-pair objects.
 */
export class CovisitationAccumulator {
  private readonly pages = new PageIndex();
  private pending = new Float64Array(16);
  private pendingLength = 0;
  private keys = new Float64Array(0);
  private counts = new Uint32Array(0);
  private covisits = 0;
  private readonly gap: number;
  private readonly foldEvery: number;

  constructor(options: CovisitationOptions = {}) {
    this.gap = options.sessionGapMs ?? 30 * 60_000;
    this.foldEvery = Math.max(1, options.foldEvery ?? 1 << 21);
  }

  /** One reader's interactions (any order; they are sorted by time here). */
  addReader(interactions: readonly Pick<Interaction, "page" | "timestamp">[]): void {
    const sorted = [...interactions].sort((a, b) => a.timestamp - b.timestamp || (a.page < b.page ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as Pick<Interaction, "page" | "timestamp">;
      const cur = sorted[i] as Pick<Interaction, "page" | "timestamp">;
      if (cur.timestamp - prev.timestamp > this.gap || cur.page === prev.page) continue;
      const a = this.pages.id(prev.page);
      const b = this.pages.id(cur.page);
      if (this.pages.size > PAIR_SHIFT) throw new RangeError("co-visitation: more than 2^22 distinct pages");
      this.push(a < b ? a * PAIR_SHIFT + b : b * PAIR_SHIFT + a);
    }
  }

  private push(key: number): void {
    if (this.pendingLength >= this.foldEvery) this.fold();
    if (this.pendingLength === this.pending.length) {
      const next = new Float64Array(Math.min(this.pending.length * 2, this.foldEvery));
      next.set(this.pending);
      this.pending = next;
    }
    this.pending[this.pendingLength++] = key;
    this.covisits += 1;
  }

  /** Sorts the pending co-visits and merges their run-length counts into the sorted counts. */
  private fold(): void {
    if (this.pendingLength === 0) return;
    const fresh = this.pending.subarray(0, this.pendingLength).sort();
    // Merged length first, so the new arrays are allocated once at their size.
    const old = this.keys;
    let merged = 0;
    for (let i = 0, j = 0; i < old.length || j < fresh.length; merged++) {
      const a = i < old.length ? (old[i] as number) : Number.POSITIVE_INFINITY;
      const b = j < fresh.length ? (fresh[j] as number) : Number.POSITIVE_INFINITY;
      if (a <= b) i++;
      if (b <= a) while (j < fresh.length && fresh[j] === b) j++;
    }
    const keys = new Float64Array(merged);
    const counts = new Uint32Array(merged);
    for (let i = 0, j = 0, w = 0; w < merged; w++) {
      const a = i < old.length ? (old[i] as number) : Number.POSITIVE_INFINITY;
      const b = j < fresh.length ? (fresh[j] as number) : Number.POSITIVE_INFINITY;
      let count = 0;
      if (a <= b) count += this.counts[i++] as number;
      if (b <= a)
        while (j < fresh.length && fresh[j] === b) {
          count++;
          j++;
        }
      keys[w] = Math.min(a, b);
      counts[w] = count;
    }
    this.keys = keys;
    this.counts = counts;
    this.pendingLength = 0;
  }

  /** Co-visits counted (each consecutive pair once). */
  get pairCount(): number {
    return this.covisits;
  }

  /** Top neighbours per article, by co-visit count (ties by page id), sorted by list id. */
  build(options: CovisitationOptions = {}): ColdstartList[] {
    return [...this.lists(options)].sort((x, y) => compare(x.listId, y.listId));
  }

  /**
   * Every co-visit count once per unordered pair (`a < b` by interning id), sorted by (a, b): what
   * the lists are built from, kept with the snapshot so an erasure can subtract readers from it. The
   * arrays are the accumulator's own (never changed in place: later reads fold into new ones).
   */
  pairCounts(): { pages: readonly string[]; keys: Float64Array; counts: Uint32Array } {
    this.fold();
    return { pages: this.pages.pages, keys: this.keys, counts: this.counts };
  }

  /**
   * The same lists one at a time (in page-interning order), so a writer can stream ~255k lists to
   * DynamoDB without holding them all: each article's neighbours are gathered from the pair counts
   * into one adjacency (16 bytes per distinct pair), the only large allocation.
   */
  *lists(options: CovisitationOptions = {}): Generator<ColdstartList> {
    const topN = Math.min(500, options.topN ?? 50);
    const { keys, counts } = this.pairCounts();
    const size = this.pages.size;
    const start = new Uint32Array(size + 1);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as number;
      const a = Math.floor(key / PAIR_SHIFT);
      start[a + 1] = (start[a + 1] as number) + 1;
      start[key - a * PAIR_SHIFT + 1] = (start[key - a * PAIR_SHIFT + 1] as number) + 1;
    }
    for (let p = 0; p < size; p++) start[p + 1] = (start[p + 1] as number) + (start[p] as number);
    const fill = start.slice(0, size);
    const neighbour = new Uint32Array(2 * keys.length);
    const count = new Uint32Array(2 * keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as number;
      const a = Math.floor(key / PAIR_SHIFT);
      const b = key - a * PAIR_SHIFT;
      const c = counts[i] as number;
      let at = fill[a] as number;
      neighbour[at] = b;
      count[at] = c;
      fill[a] = at + 1;
      at = fill[b] as number;
      neighbour[at] = a;
      count[at] = c;
      fill[b] = at + 1;
    }
    for (let source = 0; source < size; source++) {
      const from = start[source] as number;
      const to = start[source + 1] as number;
      if (from === to) continue;
      const neighbours: { id: number; count: number }[] = [];
      for (let k = from; k < to; k++)
        neighbours.push({ id: neighbour[k] as number, count: count[k] as number });
      yield covisitList(this.pages.pages, source, neighbours, topN);
    }
  }
}

/** Pair keys are built as `a * PAIR_SHIFT + b` (exported for the snapshot's saved aggregates). */
export const COVISIT_PAIR_SHIFT = PAIR_SHIFT;

/**
 * One article's co-visitation list from its neighbours' counts: by count, ties by page id, at most
 * `topN` (the one ranking of full builds and of erasures' rebuilt lists).
 */
export function covisitList(
  names: readonly string[],
  source: number,
  neighbours: { id: number; count: number }[],
  topN = 50,
): ColdstartList {
  const entries = neighbours
    .sort((x, y) => y.count - x.count || compare(names[x.id] as string, names[y.id] as string))
    .slice(0, Math.min(500, topN))
    .map((n) => ({ page: names[n.id] as string, score: n.count }));
  return { listId: coldstartListId.covisit(names[source] as string), entries };
}

/**
 * A 52-bit hash of an interaction's identity, to deduplicate the union of partitions in a typed set:
 * two 32-bit multiplicative (FNV-1a style) hashes over the same characters, 32 + 20 bits. ~4× faster
 * than a sha1 per interaction, with the same 52-bit width (a collision merely drops one duplicate-
 * looking interaction from the aggregates; expected ~0.007 collisions at 8M interactions).
 */
export function interactionHash(userId: string, page: string, timestamp: number): number {
  // The characters of `${userId}|${page}|${timestamp}`, read in place: no joined string per row
  // (~8 M of them at full scale, each a rope flattened by the first charCodeAt).
  const state = { a: 0x811c9dc5, b: 0x5bd1e995 ^ 0x01000193 };
  hashChars(state, userId);
  hashChars(state, "|");
  hashChars(state, page);
  hashChars(state, "|");
  hashChars(state, String(timestamp));
  return (state.a >>> 0) * 2 ** 20 + ((state.b >>> 0) & 0xfffff);
}

function hashChars(state: { a: number; b: number }, text: string): void {
  let { a, b } = state;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  state.a = a;
  state.b = b;
}

/** One interaction as the snapshot reads it. */
export interface SnapshotRead {
  userId: string;
  page: string;
  timestamp: number;
}

/**
 * The snapshot's pass over interactions partitions, in key order: an interaction seen in an earlier
 * partition counts once, and a reader's co-visits pair reads within one partition. Full builds feed it
 * every partition; an erasure feeds it the erased readers' rows to learn what they contributed.
 */
export class InteractionPass {
  /** Hashes of the interactions counted (a typed set: ~8 M of them at full scale). */
  private seen = new NumberSet();
  /** The readers seen (packed: ~578k of them at full scale), for their count. */
  private users = new ReaderIdSet();
  /** The readers' count once the tables are released (undefined before). */
  private released: number | undefined;
  interactions = 0;

  constructor(
    private readonly covisitation: CovisitationAccumulator,
    private readonly onRead: (read: SnapshotRead) => void,
  ) {}

  /** One partition's rows (`rows` of them, the i-th given by `row`). */
  addPartition(rows: number, row: (i: number) => SnapshotRead): void {
    if (this.released !== undefined) throw new Error("InteractionPass: a partition after release()");
    const byReader = new Map<string, { page: string; timestamp: number }[]>();
    for (let i = 0; i < rows; i++) {
      const r = row(i);
      if (!this.seen.add(interactionHash(r.userId, r.page, r.timestamp))) continue;
      this.users.add(r.userId);
      this.interactions += 1;
      this.onRead(r);
      let list = byReader.get(r.userId);
      if (list === undefined) {
        list = [];
        byReader.set(r.userId, list);
      }
      list.push({ page: r.page, timestamp: r.timestamp });
    }
    for (const reads of byReader.values()) this.covisitation.addReader(reads);
  }

  /** Distinct readers seen. */
  get readers(): number {
    return this.released ?? this.users.size;
  }

  /** Frees the dedup tables once every partition is in (the counts stay; no partition may follow). */
  release(): void {
    this.released = this.users.size;
    this.seen = new NumberSet();
    this.users = new ReaderIdSet();
  }
}
