/**
 * A family of worlds: synthetic G1 data sets whose hidden dynamics (popularity decay, trends,
 * reader affinity, sessions and stories, turnover, history lengths, new and returning readers,
 * re-reading) are drawn per seed from the ranges of `WORLD_PARAM_RANGES` (documented in
 * `docs/quality.md`, "The worlds"). Same files and format as `generateDataset`; a model measured on
 * held-out seeds is measured on dynamics nobody tuned it to (issue #13).
 */
import { editorialId, makeArticles, pickEdition, pickNationalSection } from "./articles.js";
import { MAX_HISTORY_SIZE } from "./generate.js";
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
import { type Excluder, WorldCatalogue } from "./world-dynamics.js";
import { resolveWorldParams, type WorldParams } from "./world-params.js";

export {
  drawWorldParams,
  type ParamDistribution,
  type ParamRange,
  resolveWorldParams,
  WORLD_PARAM_RANGES,
  type WorldParamName,
  type WorldParams,
} from "./world-params.js";

export interface WorldOptions {
  /** Readers with a treino history (validation-only readers come on top, per `validationOnlyShare`). */
  users: number;
  /** Days of the training period, one treino file each; 2 validation days follow. */
  days: number;
  seed: string;
  /** Number of articles; default from `articlesPerHourPer20kReaders` (at least 100). */
  items?: number;
  /** Fixes some params instead of drawing them (each must lie in its documented range). */
  params?: Partial<WorldParams>;
  /** First day of the training period (UTC date), default 2022-07-01. */
  start?: string;
  /** Append one malformed row per applicable quarantine reason to the first file of each kind. */
  malformed?: boolean;
  /**
   * Told each treino reader's hidden preferences (the click simulator reads them; the files never
   * show them). Draws nothing: the world's bytes are the same with or without it.
   */
  onReader?: (reader: HiddenReader) => void;
  /**
   * Told the world's hidden state (what `choose` reads: articles' quality, bursts, params) once the
   * catalogue is drawn, then every reader's preferences, treino and validation-only readers alike: an
   * oracle ranks by them (bench/src/oracle-ceiling.ts). Draws nothing: the bytes are the same.
   */
  onHidden?: HiddenStateListener;
}

/** The hidden state the reads are drawn from (`onHidden`). Arrays are the generator's own: read only. */
export interface HiddenWorld {
  params: WorldParams;
  /** Articles in issue order (an article is its index): page id, issue time (ms), quality. */
  pages: readonly string[];
  issued: Float64Array;
  quality: Float32Array;
  /** Breaking news, by start time: when each burst starts (ms) and its article. */
  burstStart: Float64Array;
  burstArticle: Int32Array;
}

/** One reader's hidden preferences as `choose` reads them (`onHidden`). */
export interface HiddenPreferences {
  userId: string;
  /** Share of its free reads drawn from its region and sections (0..1). */
  affinity: number;
  /** Article indices, in issue order, of its region and of each preferred section (the whole catalogue when one has none). */
  regionPool: Int32Array;
  sectionPools: readonly Int32Array[];
}

export interface HiddenStateListener {
  world(world: HiddenWorld): void;
  reader(reader: HiddenPreferences): void;
}

/** A reader's hidden preferences: how often it reads by affinity, and which articles that favours. */
export interface HiddenReader {
  userId: string;
  /** Share of its free reads taken from its region and sections (0..1). */
  affinity: number;
  /** Whether an article (page id) belongs to the reader's region or sections. */
  favours(page: string): boolean;
}

/** What the world's readers did, measured while writing (to check the params took effect). */
export interface WorldStats {
  /** Articles issued per hour in this data set (after scaling, or from `items`). */
  articlesPerHour: number;
  stories: number;
  bursts: number;
  oneVisitReaders: number;
  /** Validacao readers with a treino history, and without one. */
  returningReaders: number;
  validationOnlyReaders: number;
  /** Reads by how they were chosen (treino entries and validacao accesses; revisits excluded). */
  reads: { reread: number; story: number; trend: number; affine: number; free: number };
  /** Same-day re-reads: counted in `pageVisitsCountHistory`, no list entry. */
  treinoRevisits: number;
  /** Validacao accesses to an article the reader read in treino. */
  validationRereads: number;
}

export type WorldAggregates = ExpectedAggregates & { params: WorldParams; world: WorldStats };

/** Readers' session starts follow the day: weights per hour, Brasília time (UTC−3). */
const LOCAL_HOUR_WEIGHT = [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 9, 9, 8, 6, 4];
const MAX_HOUR_WEIGHT = 9;
/** At least this long between two sessions of a reader. */
const SESSION_GAP_MS = 30 * 60_000;
/** Share of history elements that are editorial `esid:` ids (as in the real files). */
const EDITORIAL_SHARE = 0.004;
/** Validacao accesses per reader: 1–5, cumulative weights (the real file holds up to 5). */
const VALIDATION_COUNT_CUM = [45, 65, 80, 90, 100];
const REFERENCE_READERS = 20_000;

type ReadKind = keyof WorldStats["reads"];
interface Preferences {
  affinity: number;
  regionPool: Int32Array;
  sectionPools: Int32Array[];
}

function diurnalTime(rng: Rng, from: number, to: number): number {
  for (;;) {
    const t = Math.floor(from + rng.next() * (to - from));
    const localHour = (Math.floor(t / HOUR_MS) + 21) % 24;
    if (rng.next() * MAX_HOUR_WEIGHT < (LOCAL_HOUR_WEIGHT[localHour] as number)) return t;
  }
}

const readGap = (rng: Rng) => Math.floor(5_000 + rng.exponential(150_000));

/**
 * Generates one world in the exact G1 format (see `generateDataset` for the files). Deterministic:
 * same options, same bytes. Returns the aggregates of what was written, the params in force and
 * the measured behaviour of the readers.
 */
export function generateWorld(options: WorldOptions, sink: OutputSink): WorldAggregates {
  const { users, seed, days } = options;
  if (!Number.isInteger(users) || users < 1) throw new RangeError("users must be a positive integer");
  if (!Number.isInteger(days) || days < 1) throw new RangeError("days must be a positive integer");
  if (options.items !== undefined && !(Number.isInteger(options.items) && options.items >= 1))
    throw new RangeError("items must be a positive integer");
  const params = resolveWorldParams(seed, options.params);
  const malformed = options.malformed ?? false;
  const trainStart = Date.parse(`${options.start ?? "2022-07-01"}T00:00:00Z`);
  if (Number.isNaN(trainStart)) throw new RangeError("start must be a date (YYYY-MM-DD)");
  const trainEnd = trainStart + days * DAY_MS;
  const validationEnd = trainEnd + 2 * DAY_MS;
  // Articles from 4 days before training (older ones barely matter at half-lives ≤ 1 day).
  const issueFrom = trainStart - 4 * DAY_MS;
  const issueTo = validationEnd - HOUR_MS;
  const issueHours = (issueTo - issueFrom) / HOUR_MS;
  const itemCount =
    options.items ??
    Math.max(
      100,
      Math.round(((params.articlesPerHourPer20kReaders * users) / REFERENCE_READERS) * issueHours),
    );

  const rng = new Rng(seed, "world");
  const articles = makeArticles(rng, itemCount, issueFrom, issueTo, params.qualitySigma);
  const catalogue = new WorldCatalogue(articles, params, rng);
  const all = articles.pools.get("all") as Int32Array;
  options.onHidden?.world({
    params,
    pages: articles.pages,
    issued: articles.issued,
    quality: articles.quality,
    burstStart: catalogue.burstStart,
    burstArticle: catalogue.burstArticle,
  });
  const rereadShare = params.rereading ? params.rereadShare : 0;
  const world: WorldStats = {
    articlesPerHour: itemCount / issueHours,
    stories: catalogue.stories.length,
    bursts: catalogue.burstStart.length,
    oneVisitReaders: 0,
    returningReaders: 0,
    validationOnlyReaders: 0,
    reads: { reread: 0, story: 0, trend: 0, affine: 0, free: 0 },
    treinoRevisits: 0,
    validationRereads: 0,
  };

  const itens = writeItens(
    sink,
    seed,
    articles,
    trainStart,
    (i) => catalogue.topicOf(i),
    (file, first) => {
      if (malformed) writeMalformedItens(file, first, rng);
    },
  );

  const preferences = (): Preferences => {
    const edition = pickEdition(rng);
    const sectionPools: Int32Array[] = [];
    if (rng.chance(0.5)) sectionPools.push(articles.pools.get(`section:${edition.edition}`) ?? all);
    for (let k = 1 + rng.int(2); k > 0; k--)
      sectionPools.push(articles.pools.get(`section:${pickNationalSection(rng).section}`) ?? all);
    const spread = params.affinitySpread * (2 * rng.next() - 1);
    return {
      affinity: Math.min(1, Math.max(0, params.affinity * (1 + spread))),
      regionPool: articles.pools.get(`region:${edition.uf}`) ?? all,
      sectionPools,
    };
  };

  const poolSets = new Map<Int32Array, Set<number>>();
  const indexOfPage = new Map<string, number>();
  if (options.onReader !== undefined)
    for (let i = 0; i < articles.pages.length; i++) indexOfPage.set(articles.pages[i] as string, i);
  const poolSet = (pool: Int32Array) => {
    const known = poolSets.get(pool);
    if (known !== undefined) return known;
    const set = new Set(pool);
    poolSets.set(pool, set);
    return set;
  };
  const hiddenReader = (userId: string, prefs: Preferences): HiddenReader => {
    const pools = [prefs.regionPool, ...prefs.sectionPools].filter((p) => p !== all).map(poolSet);
    return {
      userId,
      affinity: prefs.affinity,
      favours: (page) => {
        const i = indexOfPage.get(page);
        return i !== undefined && pools.some((p) => p.has(i));
      },
    };
  };

  /**
   * The article of one read at `t`: a re-read of `history` (most recent first, never one in
   * `rereadExclude`), the continuation of the session's story, a trending article, or a decayed
   * pick from the reader's region/sections (by affinity) or from everything. -1: nothing readable.
   */
  const choose = (
    prefs: Preferences,
    t: number,
    previous: number,
    exclude: Excluder,
    history: readonly number[],
    rereadExclude: Excluder,
  ): { article: number; kind: ReadKind } => {
    if (history.length > 0 && rng.chance(rereadShare)) {
      for (let attempt = 0; attempt < 4; attempt++) {
        const article = history[history.length - 1 - Math.min(rng.geometric(0.3), history.length - 1)];
        if (article !== undefined && !rereadExclude.has(article)) return { article, kind: "reread" };
      }
    }
    if (previous >= 0 && rng.chance(params.sessionCoherence)) {
      const article = catalogue.fromStory(rng, catalogue.storyOf[previous] as number, t, exclude);
      if (article >= 0) return { article, kind: "story" };
    }
    if (rng.chance(params.trendShare)) {
      const article = catalogue.trending(rng, t, exclude);
      if (article >= 0) return { article, kind: "trend" };
    }
    let pool = all;
    let kind: ReadKind = "free";
    if (rng.chance(prefs.affinity)) {
      pool = rng.chance(params.regionWeight) ? prefs.regionPool : rng.pick(prefs.sectionPools);
      kind = "affine";
    }
    let article = catalogue.decayed(rng, pool, t, exclude, pool !== all);
    if (article < 0 && pool !== all) {
      article = catalogue.decayed(rng, all, t, exclude);
      kind = "free";
    }
    return { article, kind };
  };

  /** Session lengths: 1 + geometric with the world's mean. */
  const sessionReads = () => 1 + rng.geometric(1 / params.meanSessionReads);

  /** Sorted session starts in [from, to) (the reads push a start later to keep SESSION_GAP_MS). */
  const sessionStarts = (count: number, from: number, to: number): number[] =>
    Array.from({ length: count }, () => diurnalTime(rng, from, to)).sort((x, y) => x - y);

  /** Validacao accesses of one reader (1–5, in one or two sessions) after the training period. */
  const validationAccesses = (prefs: Preferences, read: ReadonlySet<number>, history: readonly number[]) => {
    const n = 1 + rng.pickCumulative(VALIDATION_COUNT_CUM);
    const split = n > 1 && rng.chance(0.3) ? 1 + rng.int(n - 1) : n;
    const counts = split === n ? [n] : [split, n - split];
    const listed = new Set<number>();
    const exclude: Excluder = { has: (i) => read.has(i) || listed.has(i) };
    const ids: string[] = [];
    const stamps: number[] = [];
    let fresh = 0;
    let previousEnd = 0;
    const starts = sessionStarts(counts.length, trainEnd, validationEnd - HOUR_MS);
    counts.forEach((count, s) => {
      let t = Math.max(starts[s] as number, previousEnd + SESSION_GAP_MS);
      let previous = -1;
      for (let j = 0; j < count && t < validationEnd; j++, t += readGap(rng)) {
        const { article, kind } = choose(prefs, t, previous, exclude, history, listed);
        if (article < 0) continue;
        world.reads[kind]++;
        if (read.has(article)) world.validationRereads++;
        listed.add(article);
        ids.push(articles.pages[article] as string);
        stamps.push(t);
        if ((articles.issued[article] as number) >= trainEnd) fresh++;
        previous = article;
      }
      previousEnd = t;
    });
    return { ids, stamps, fresh };
  };

  const treino = openTreinoFiles(sink, trainStart, days);
  const validacao = new FileStats("validacao.csv", "validacao", sink.open("validacao.csv"));
  const maxHistory = Math.max(2, Math.min(MAX_HISTORY_SIZE, Math.floor(itemCount * 0.8)));
  const totals = new ReaderTotals(users);
  const engagement = new EngagementStats(users);
  const noReads: ReadonlySet<number> = new Set();
  let firstTreinoFields: string[] | undefined;

  for (let u = 0; u < users; u++) {
    const userId = rng.hex(64);
    const userType = rng.chance(0.21) ? "Logged" : "Non-Logged";
    if (userType === "Logged") totals.logged++;
    const prefs = preferences();
    if (options.onReader !== undefined) options.onReader(hiddenReader(userId, prefs));
    options.onHidden?.reader({ userId, ...prefs });

    // One visit, or a log-normal history (≥ 2 reads) over at least two sessions.
    const sessions: number[] = [];
    if (rng.chance(params.oneVisitShare)) {
      sessions.push(Math.min(maxHistory, sessionReads()));
      world.oneVisitReaders++;
    } else {
      const size = Math.min(
        maxHistory,
        Math.max(2, Math.round(rng.logNormal(Math.log(params.historyMedian), params.historySigma))),
      );
      for (let left = size; left > 0; ) {
        const s = Math.min(left, sessionReads());
        sessions.push(s);
        left -= s;
      }
      if (sessions.length === 1) sessions.splice(0, 1, Math.ceil(size / 2), Math.floor(size / 2));
    }

    const read = new Set<number>();
    const history: number[] = [];
    const rows = new TreinoRows();
    let kept = 0;
    let dropped = 0;
    let previousEnd = 0;
    const starts = sessionStarts(sessions.length, trainStart, trainEnd - 2 * HOUR_MS);
    sessions.forEach((count, s) => {
      let t = Math.max(starts[s] as number, previousEnd + SESSION_GAP_MS);
      let previous = -1;
      for (let j = 0; j < count && t < trainEnd; j++, t += readGap(rng)) {
        const day = Math.floor((t - trainStart) / DAY_MS);
        let page: string;
        if (rng.chance(EDITORIAL_SHARE)) {
          page = editorialId(rng);
          dropped++;
        } else {
          const { article, kind } = choose(prefs, t, previous, read, history, noReads);
          if (article < 0) continue;
          previous = article;
          page = articles.pages[article] as string;
          if (kind === "reread" && rows.revisit(day, page)) {
            world.treinoRevisits++;
            continue;
          }
          world.reads[kind]++;
          if (kind !== "reread") {
            read.add(article);
            history.push(article);
          }
          kept++;
          if (t > totals.newest) totals.newest = t;
        }
        // pageVisitsCountHistory counts same-day re-reads (`revisit`): a first read is one visit.
        const drawn = { ...drawEngagement(rng), visits: 1 };
        engagement.add(drawn);
        rows.add(day, page, t, drawn);
      }
      previousEnd = t;
    });
    const written = rows.write(userId, userType, treino);
    firstTreinoFields ??= written.firstDayFields;
    totals.addTreino(u, userId, kept, dropped, written.rawSize);

    if (kept > 0 && rng.chance(params.returnShare)) {
      const v = validationAccesses(prefs, read, history);
      if (v.ids.length > 0) {
        totals.addValidation(
          validacao,
          { userId, userType, history: v.ids, timestampHistory: v.stamps },
          v.fresh,
        );
        world.returningReaders++;
      }
    }
  }

  // Readers seen only in the validation days: their share of validacao readers is validationOnlyShare.
  const newReaders = Math.round(
    (world.returningReaders * params.validationOnlyShare) / (1 - params.validationOnlyShare),
  );
  for (let n = 0; n < newReaders; n++) {
    const userId = rng.hex(64);
    const userType = rng.chance(0.21) ? "Logged" : "Non-Logged";
    const prefs = preferences();
    options.onHidden?.reader({ userId, ...prefs });
    const v = validationAccesses(prefs, noReads, []);
    if (v.ids.length === 0) continue;
    totals.addValidation(
      validacao,
      { userId, userType, history: v.ids, timestampHistory: v.stamps },
      v.fresh,
    );
    world.validationOnlyReaders++;
  }

  const expected = finishDataset({
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
  return { ...expected, params, world };
}
