import {
  type Articles,
  editorialId,
  lastIssuedBefore,
  makeArticles,
  pickEdition,
  pickNationalSection,
} from "./articles.js";
import { writeMalformedItens } from "./malformed.js";
import {
  DAY_MS,
  drawEngagement,
  EngagementStats,
  type ExpectedAggregates,
  FileStats,
  finishDataset,
  HOUR_MS,
  type OutputSink,
  openTreinoFiles,
  ReaderTotals,
  TreinoRows,
  writeItens,
} from "./output.js";
import { Rng } from "./rng.js";

export type { ExpectedAggregates, ExpectedFile, OutputFile, OutputSink } from "./output.js";

/** Full scale of the real kit: what `--users 577942 --days 46` reproduces. */
export const FULL_SCALE = { users: 577_942, interactions: 8_123_951, items: 255_603, days: 46 } as const;
export const MAX_HISTORY_SIZE = 7_004;

export interface GeneratorOptions {
  users: number;
  seed: string;
  /** Days of the training period, one treino file each. */
  days: number;
  /** Append one malformed row per applicable quarantine reason to the first file of each kind. */
  malformed?: boolean;
  /** Number of articles; default scales with users as in the real kit (255,603 for 577,942). */
  items?: number;
  /** First day of the training period (UTC date), default 2022-07-01. */
  start?: string;
  /** Share of readers with validation accesses (default 0.2). */
  validationShare?: number;
  /**
   * Readers (the first ones) forced to the maximum history size (7,004, or what the item count
   * allows) with no editorial ids: the heaviest reader of the real data, at any scale.
   */
  heavyReaders?: number;
}

/**
 * An article read at `t`: its age drawn from a decaying distribution (fresh news dominates), then
 * among the few articles of the pool issued around `t - age`, one chosen by quality. Never one
 * issued after `t`, never one in `exclude`.
 */
function pickArticle(
  rng: Rng,
  a: Articles,
  pool: Int32Array,
  t: number,
  ageMeanMs: number,
  exclude: Set<number>,
): number {
  for (let attempt = 0; attempt < 12; attempt++) {
    const age = rng.chance(0.85) ? rng.exponential(ageMeanMs) : rng.exponential(ageMeanMs * 8);
    let idx = lastIssuedBefore(a, pool, t - age);
    if (idx < 0) idx = lastIssuedBefore(a, pool, t);
    if (idx < 0) return -1;
    let best = -1;
    let bestScore = -1;
    for (let k = 0; k < 6 && idx - k >= 0; k++) {
      const i = pool[idx - k] as number;
      const score = (a.quality[i] as number) * rng.next();
      if (score > bestScore && !exclude.has(i)) {
        best = i;
        bestScore = score;
      }
    }
    if (best >= 0) return best;
  }
  // A reader who already read everything nearby: the newest unread article before t.
  for (let idx = lastIssuedBefore(a, pool, t); idx >= 0; idx--) {
    const i = pool[idx] as number;
    if (!exclude.has(i)) return i;
  }
  return -1;
}

/**
 * Writes a synthetic data set in the exact G1 format: `itens/itens-<date>.csv` (articles issued that
 * day, newest first), `treino/treino-<date>.csv` (one row per reader per day of the training period),
 * `validacao.csv` (later accesses, numpy lists). Streams: memory holds the article metadata and one
 * reader at a time. Returns the aggregates of what was written.
 */
export function generateDataset(options: GeneratorOptions, sink: OutputSink): ExpectedAggregates {
  const { users, seed, days } = options;
  if (!Number.isInteger(users) || users < 1) throw new RangeError("users must be a positive integer");
  if (!Number.isInteger(days) || days < 1) throw new RangeError("days must be a positive integer");
  const malformed = options.malformed ?? false;
  const itemCount = options.items ?? Math.max(100, Math.round((users * FULL_SCALE.items) / FULL_SCALE.users));
  const trainStart = Date.parse(`${options.start ?? "2022-07-01"}T00:00:00Z`);
  const trainEnd = trainStart + days * DAY_MS;
  const validationEnd = trainEnd + 2 * DAY_MS;
  const validationShare = options.validationShare ?? 0.2;
  const rng = new Rng(seed, "main");

  // Articles: issued from a week before training to the end of the validation days.
  const articles = makeArticles(rng, itemCount, trainStart - 7 * DAY_MS, validationEnd - HOUR_MS);
  const all = articles.pools.get("all") as Int32Array;

  // --- itens: one file per issue date (older articles go into the first day's file).
  const itens = writeItens(sink, seed, articles, trainStart, undefined, (file, first) => {
    if (malformed) writeMalformedItens(file, first, rng);
  });

  // --- treino: one file per training day, all open while readers stream through.
  const treino = openTreinoFiles(sink, trainStart, days);
  const validacao = new FileStats("validacao.csv", "validacao", sink.open("validacao.csv"));
  const maxHistory = Math.max(1, Math.min(MAX_HISTORY_SIZE, Math.floor(itemCount * 0.8)));
  const totals = new ReaderTotals(users);
  const engagement = new EngagementStats(users);
  let firstTreinoFields: string[] | undefined;

  for (let u = 0; u < users; u++) {
    const userId = rng.hex(64);
    const isLogged = rng.chance(0.21);
    const userType = isLogged ? "Logged" : "Non-Logged";
    if (isLogged) totals.logged++;
    const edition = pickEdition(rng);
    const regionPool = articles.pools.get(`region:${edition.uf}`) ?? all;
    const favourite = rng.chance(0.5)
      ? `section:${edition.edition}`
      : `section:${pickNationalSection(rng).section}`;
    const sectionPool = articles.pools.get(favourite) ?? all;
    const heavy = u < (options.heavyReaders ?? 0);
    const drawn = Math.min(maxHistory, Math.max(1, Math.round(rng.logNormal(Math.log(2), 1.965))));
    const size = heavy ? maxHistory : drawn;

    // Sessions of a few reads each, spread over the training period.
    const sessions: number[] = [];
    for (let left = size; left > 0; ) {
      const s = Math.min(left, 1 + rng.geometric(0.4));
      sessions.push(s);
      left -= s;
    }
    const starts = new Float64Array(sessions.length);
    for (let s = 0; s < sessions.length; s++)
      starts[s] = trainStart + rng.next() * (trainEnd - trainStart - 2 * HOUR_MS);
    starts.sort();
    const times = new Float64Array(size);
    let k = 0;
    sessions.forEach((count, s) => {
      let t = starts[s] as number;
      for (let j = 0; j < count; j++) {
        times[k++] = Math.floor(t);
        t += 5_000 + rng.exponential(150_000);
      }
    });
    times.sort();

    const read = new Set<number>();
    const rows = new TreinoRows();
    let kept = 0;
    let dropped = 0;
    for (let e = 0; e < size; e++) {
      const t = times[e] as number;
      let page: string;
      if (rng.chance(0.004) && !heavy) {
        page = editorialId(rng);
        dropped++;
      } else {
        const x = rng.next();
        const pool = x < 0.35 ? regionPool : x < 0.6 ? sectionPool : all;
        let i = pickArticle(rng, articles, pool, t, 20 * HOUR_MS, read);
        if (i < 0 && pool !== all) i = pickArticle(rng, articles, all, t, 20 * HOUR_MS, read);
        if (i < 0) continue; // nothing unread was published yet
        read.add(i);
        page = articles.pages[i] as string;
        kept++;
        if (t > totals.newest) totals.newest = t;
      }
      const drawnEngagement = drawEngagement(rng);
      engagement.add(drawnEngagement);
      rows.add(Math.floor((t - trainStart) / DAY_MS), page, t, drawnEngagement);
    }
    const written = rows.write(userId, userType, treino);
    firstTreinoFields ??= written.firstDayFields;
    totals.addTreino(u, userId, kept, dropped, written.rawSize);

    // Validation: later accesses (after the training period), mostly to fresh articles.
    if (kept > 0 && (rng.chance(validationShare) || (u === users - 1 && totals.validationUsers === 0))) {
      const n = 1 + rng.pickCumulative([45, 65, 80, 90, 100]);
      const vt: number[] = [];
      for (let j = 0; j < n; j++) vt.push(trainEnd + Math.floor(rng.next() * (validationEnd - trainEnd)));
      vt.sort((x, y) => x - y);
      const seen = new Set<number>();
      const ids: string[] = [];
      const stamps: number[] = [];
      let fresh = 0;
      for (const t of vt) {
        const isFresh = rng.chance(0.85);
        const pool = isFresh ? all : rng.chance(0.5) ? regionPool : sectionPool;
        const i = pickArticle(rng, articles, pool, t, isFresh ? 6 * HOUR_MS : 20 * HOUR_MS, seen);
        if (i < 0) continue;
        seen.add(i);
        ids.push(articles.pages[i] as string);
        stamps.push(t);
        if ((articles.issued[i] as number) >= trainEnd) fresh++;
      }
      if (ids.length > 0)
        totals.addValidation(validacao, { userId, userType, history: ids, timestampHistory: stamps }, fresh);
    }
  }
  return finishDataset({
    generator: { seed, users, days, items: itemCount, malformed },
    period: { trainStart, trainEnd, validationEnd },
    itens,
    treino,
    validacao,
    readers: totals,
    engagement,
    rng,
    firstTreinoFields,
    page: articles.pages[0] as string,
  });
}
