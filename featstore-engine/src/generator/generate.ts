import { createHash } from "node:crypto";
import { type QuarantineReason, RAW_HEADERS, type RawFileKind } from "@gplay/common";
import { formatCsvRecord } from "../domain/csv.js";
import {
  formatFloat,
  formatItensFields,
  formatNumpyNumberList,
  formatNumpyStringList,
  formatTreinoFields,
  formatValidacaoFields,
  joinTreinoList,
} from "../domain/raw-format.js";
import {
  articleUrl,
  EDITIONS,
  NATIONAL_SECTIONS,
  REGIONAL_TOPICS,
  slugify,
  type UrlShape,
} from "./catalog.js";
import { Rng } from "./rng.js";
import { body, sentence, title, topicWords } from "./text.js";

/** Full scale of the real kit: what `--users 577942 --days 46` reproduces. */
export const FULL_SCALE = { users: 577_942, interactions: 8_123_951, items: 255_603, days: 46 } as const;
export const MAX_HISTORY_SIZE = 7_004;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

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

/** Where generated files go (the CLI writes to disk; tests keep them in memory). */
export interface OutputSink {
  open(relativePath: string): OutputFile;
}
export interface OutputFile {
  write(text: string): void;
  close(): void;
}

export interface ExpectedFile {
  path: string;
  kind: RawFileKind;
  rowsIn: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  byReason: Partial<Record<QuarantineReason, number>>;
  elementsDropped: number;
  /** Interactions (treino), accesses (validacao) or articles (itens) in accepted rows. */
  records: number;
}

/** What the generator wrote, for tests to compare the engine's output with (`expected.json`). */
export interface ExpectedAggregates {
  generator: { seed: string; users: number; days: number; items: number; malformed: boolean };
  period: { trainStart: number; trainEnd: number; validationEnd: number };
  files: ExpectedFile[];
  totals: {
    users: number;
    loggedUsers: number;
    /** After cleaning (editorial ids dropped), malformed rows excluded. */
    interactions: number;
    elementsDropped: number;
    items: number;
    validationUsers: number;
    validationAccesses: number;
    rowsQuarantined: number;
    /** Newest interaction timestamp (the snapshot's as-of). */
    newestInteraction: number;
  };
  stats: {
    loggedShare: number;
    /** Raw historySize per reader (all days merged): editorial ids included. */
    historySize: { median: number; mean: number; max: number };
    timeOnPageMedian: number;
    timeOnPageMin: number;
    scrollMedian: number;
    scrollAbove100: number;
    noticiaShare: number;
    multilineBodyShare: number;
    /** Share of validation accesses going to articles issued after the training period ended. */
    validationFreshShare: number;
  };
  itemsBySection: Record<string, number>;
  itemsByRegion: Record<string, number>;
  itemsByContentType: Record<string, number>;
  /** Interactions after cleaning per reader (only up to 100,000 readers; always digested). */
  perUser?: Record<string, number>;
  /** sha256 over sorted `userId:count` lines. */
  perUserDigest: string;
  heaviestUser: { userId: string; interactions: number };
}

interface Articles {
  count: number;
  pages: string[];
  issued: Float64Array;
  quality: Float32Array;
  shape: Uint8Array;
  path: string[];
  section: string[];
  region: string[];
  pools: Map<string, Int32Array>;
}

const SHAPES: readonly UrlShape[] = ["noticia", "blog", "especial", "quiz", "video"];

function cumulative(weights: readonly number[]): number[] {
  let s = 0;
  return weights.map((w) => (s += w));
}

const EDITION_CUM = cumulative(EDITIONS.map((e) => e.weight));
const SECTION_CUM = cumulative(NATIONAL_SECTIONS.map((s) => s.weight));

function makeArticles(rng: Rng, count: number, from: number, to: number): Articles {
  const issuedRaw = new Float64Array(count);
  for (let i = 0; i < count; i++) issuedRaw[i] = from + Math.floor((rng.next() * (to - from)) / 1000) * 1000;
  issuedRaw.sort();
  const a: Articles = {
    count,
    pages: new Array(count),
    issued: issuedRaw,
    quality: new Float32Array(count),
    shape: new Uint8Array(count),
    path: new Array(count),
    section: new Array(count),
    region: new Array(count),
    pools: new Map(),
  };
  const poolLists = new Map<string, number[]>();
  const add = (key: string, i: number) => {
    let list = poolLists.get(key);
    if (list === undefined) {
      list = [];
      poolLists.set(key, list);
    }
    list.push(i);
  };
  for (let i = 0; i < count; i++) {
    a.pages[i] = rng.uuid();
    a.quality[i] = rng.logNormal(0, 1);
    const x = rng.next();
    const shape = x < 0.981 ? 0 : x < 0.988 ? 1 : x < 0.993 ? 2 : x < 0.996 ? 3 : 4;
    a.shape[i] = shape;
    if (rng.chance(0.55)) {
      const e = EDITIONS[rng.pickCumulative(EDITION_CUM)] as (typeof EDITIONS)[number];
      const topic = shape === 0 && rng.chance(0.06) ? `/${rng.pick(REGIONAL_TOPICS)}` : "";
      a.path[i] = `${e.uf}/${e.edition}${topic}`;
      a.section[i] = e.edition;
      a.region[i] = e.uf;
    } else {
      const s = NATIONAL_SECTIONS[rng.pickCumulative(SECTION_CUM)] as (typeof NATIONAL_SECTIONS)[number];
      const sub = s.subs.length > 0 && rng.chance(0.3) ? `/${rng.pick(s.subs)}` : "";
      a.path[i] = `${s.section}${sub}`;
      a.section[i] = s.section;
      a.region[i] = "nacional";
    }
    add("all", i);
    add(`section:${a.section[i]}`, i);
    add(`region:${a.region[i]}`, i);
  }
  for (const [key, list] of poolLists) a.pools.set(key, Int32Array.from(list));
  return a;
}

/** Last position in `pool` whose article was issued at or before `t`; -1 if none. */
function lastIssuedBefore(a: Articles, pool: Int32Array, t: number): number {
  let lo = 0;
  let hi = pool.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((a.issued[pool[mid] as number] as number) <= t) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
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

class FileStats {
  readonly byReason: Partial<Record<QuarantineReason, number>> = {};
  rowsIn = 0;
  rowsAccepted = 0;
  elementsDropped = 0;
  records = 0;
  constructor(
    readonly path: string,
    readonly kind: RawFileKind,
    readonly out: OutputFile,
  ) {
    out.write(formatCsvRecord(RAW_HEADERS[kind]));
  }
  accepted(fields: readonly string[], records: number, dropped = 0): void {
    this.out.write(formatCsvRecord(fields));
    this.rowsIn++;
    this.rowsAccepted++;
    this.records += records;
    this.elementsDropped += dropped;
  }
  quarantined(reason: QuarantineReason, text: string): void {
    this.out.write(text);
    this.rowsIn++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
  }
  toExpected(): ExpectedFile {
    const q = Object.values(this.byReason).reduce((s, n) => s + n, 0);
    return {
      path: this.path,
      kind: this.kind,
      rowsIn: this.rowsIn,
      rowsAccepted: this.rowsAccepted,
      rowsQuarantined: q,
      byReason: this.byReason,
      elementsDropped: this.elementsDropped,
      records: this.records,
    };
  }
}

function dateOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 === 1
    ? (sorted[(n - 1) / 2] as number)
    : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
}

function editorialId(rng: Rng): string {
  const s = rng.pick(NATIONAL_SECTIONS).section;
  const slug = slugify(sentence(rng, topicWords(s), 4, 8));
  return `esid:conteudo_editorial_g1#materia#https://g1.globo.com/${s}/noticia/2022/07/${String(1 + rng.int(28)).padStart(2, "0")}/${slug}.ghtml`;
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
  const itemsBySection: Record<string, number> = {};
  const itemsByRegion: Record<string, number> = {};
  const itemsByContentType: Record<string, number> = {};
  const files: FileStats[] = [];
  let multiline = 0;
  const itensByDate = new Map<string, number[]>();
  for (let i = 0; i < itemCount; i++) {
    const date = dateOf(Math.max(articles.issued[i] as number, trainStart));
    let list = itensByDate.get(date);
    if (list === undefined) {
      list = [];
      itensByDate.set(date, list);
    }
    list.push(i);
  }
  let firstItens: FileStats | undefined;
  let firstItensFields: string[] | undefined;
  for (const [date, list] of [...itensByDate].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const path = `itens/itens-${date}.csv`;
    const file = new FileStats(path, "itens", sink.open(path));
    files.push(file);
    for (let k = list.length - 1; k >= 0; k--) {
      const i = list[k] as number;
      const ar = new Rng(seed, "article", i);
      const section = articles.section[i] as string;
      const words = topicWords(articles.region[i] === "nacional" ? section : "regional");
      let t = title(ar, words);
      const b = body(ar, words);
      const caption = sentence(ar, words, 10, 24);
      if (ar.chance(0.01)) t = `\n${t}`;
      const issued = articles.issued[i] as number;
      const modified = ar.chance(0.5)
        ? issued + ar.int(3) * 1000
        : issued + Math.floor(ar.exponential(6 * HOUR_MS) / 1000) * 1000;
      const shape = SHAPES[articles.shape[i] as number] as UrlShape;
      const url = articleUrl(ar, shape, articles.path[i] as string, issued, slugify(t));
      const fields = formatItensFields({
        page: articles.pages[i] as string,
        url,
        issued,
        modified,
        title: t,
        body: b,
        caption: ar.chance(0.01) ? `\n${caption}` : caption,
      });
      file.accepted(fields, 1);
      if (b.includes("\n")) multiline++;
      itemsBySection[section] = (itemsBySection[section] ?? 0) + 1;
      itemsByRegion[articles.region[i] as string] = (itemsByRegion[articles.region[i] as string] ?? 0) + 1;
      itemsByContentType[shape] = (itemsByContentType[shape] ?? 0) + 1;
      if (firstItens === undefined) {
        firstItens = file;
        firstItensFields = fields;
      }
    }
    if (firstItens === file && malformed) writeMalformedItens(file, firstItensFields as string[], rng);
    file.out.close();
  }

  // --- treino: one file per training day, all open while readers stream through.
  const treino: FileStats[] = [];
  for (let d = 0; d < days; d++) {
    const path = `treino/treino-${dateOf(trainStart + d * DAY_MS)}.csv`;
    treino.push(new FileStats(path, "treino", sink.open(path)));
  }
  const validacao = new FileStats("validacao.csv", "validacao", sink.open("validacao.csv"));
  const maxHistory = Math.max(1, Math.min(MAX_HISTORY_SIZE, Math.floor(itemCount * 0.8)));
  const historySizes = new Uint32Array(users);
  const perUserLines: string[] = [];
  const perUser: Record<string, number> | undefined = users <= 100_000 ? {} : undefined;
  const timeSample: number[] = [];
  const scrollSample: number[] = [];
  let timeMin = Number.POSITIVE_INFINITY;
  let scrollAbove100 = 0;
  const stride = Math.max(1, Math.floor((users * 14) / 200_000));
  let elementCounter = 0;
  let logged = 0;
  let interactionsTotal = 0;
  let droppedTotal = 0;
  let newest = 0;
  let validationUsers = 0;
  let validationAccesses = 0;
  let validationFresh = 0;
  let heaviest = { userId: "", interactions: -1 };
  let firstTreinoFields: string[] | undefined;
  let firstValidacaoFields: string[] | undefined;

  for (let u = 0; u < users; u++) {
    const userId = rng.hex(64);
    const isLogged = rng.chance(0.21);
    const userType = isLogged ? "Logged" : "Non-Logged";
    if (isLogged) logged++;
    const edition = EDITIONS[rng.pickCumulative(EDITION_CUM)] as (typeof EDITIONS)[number];
    const regionPool = articles.pools.get(`region:${edition.uf}`) ?? all;
    const favourite = rng.chance(0.5)
      ? `section:${edition.edition}`
      : `section:${(NATIONAL_SECTIONS[rng.pickCumulative(SECTION_CUM)] as (typeof NATIONAL_SECTIONS)[number]).section}`;
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
    const rowsByDay = new Map<
      number,
      {
        history: string[];
        ts: number[];
        clicks: number[];
        time: number[];
        scroll: number[];
        visits: number[];
      }
    >();
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
        if (t > newest) newest = t;
      }
      const clicks = rng.chance(0.00005) ? 1000 + rng.int(13_600) : Math.round(rng.logNormal(0, 1.3));
      const time = 5_000 + Math.round(rng.logNormal(Math.log(55_000), 0.9));
      const scroll = rng.chance(0.003)
        ? Math.round((100 + rng.logNormal(Math.log(300), 1.5)) * 100) / 100
        : Math.round(100 * rng.next() ** 1.25 * 100) / 100;
      const visits = 1 + (rng.chance(0.15) ? 1 + rng.geometric(0.5) : 0);
      if (elementCounter++ % stride === 0) {
        timeSample.push(time);
        scrollSample.push(scroll);
      }
      if (time < timeMin) timeMin = time;
      if (scroll > 100) scrollAbove100++;
      const day = Math.floor((t - trainStart) / DAY_MS);
      let row = rowsByDay.get(day);
      if (row === undefined) {
        row = { history: [], ts: [], clicks: [], time: [], scroll: [], visits: [] };
        rowsByDay.set(day, row);
      }
      row.history.push(page);
      row.ts.push(t);
      row.clicks.push(clicks);
      row.time.push(time);
      row.scroll.push(scroll);
      row.visits.push(visits);
    }
    let rawSize = 0;
    for (const [day, row] of [...rowsByDay].sort(([x], [y]) => x - y)) {
      const realPages = row.history.filter((p) => !p.startsWith("esid:")).length;
      const rowDropped = row.history.length - realPages;
      rawSize += row.history.length;
      const fields = formatTreinoFields({
        userId,
        userType,
        history: row.history,
        timestampHistory: row.ts,
        numberOfClicksHistory: row.clicks,
        timeOnPageHistory: row.time,
        scrollPercentageHistory: row.scroll,
        pageVisitsCountHistory: row.visits,
        timestampHistory_new: row.ts,
      });
      const file = treino[day] as FileStats;
      file.accepted(fields, realPages, rowDropped);
      if (day === 0 && firstTreinoFields === undefined) firstTreinoFields = fields;
    }
    historySizes[u] = rawSize;
    droppedTotal += dropped;
    interactionsTotal += kept;
    if (perUser !== undefined && kept > 0) perUser[userId] = kept;
    if (kept > 0) perUserLines.push(`${userId}:${kept}`);
    if (kept > heaviest.interactions) heaviest = { userId, interactions: kept };

    // Validation: later accesses (after the training period), mostly to fresh articles.
    if (kept > 0 && (rng.chance(validationShare) || (u === users - 1 && validationUsers === 0))) {
      const n = 1 + rng.pickCumulative([45, 65, 80, 90, 100]);
      const vt: number[] = [];
      for (let j = 0; j < n; j++) vt.push(trainEnd + Math.floor(rng.next() * (validationEnd - trainEnd)));
      vt.sort((x, y) => x - y);
      const seen = new Set<number>();
      const ids: string[] = [];
      const stamps: number[] = [];
      for (const t of vt) {
        const fresh = rng.chance(0.85);
        const pool = fresh ? all : rng.chance(0.5) ? regionPool : sectionPool;
        const i = pickArticle(rng, articles, pool, t, fresh ? 6 * HOUR_MS : 20 * HOUR_MS, seen);
        if (i < 0) continue;
        seen.add(i);
        ids.push(articles.pages[i] as string);
        stamps.push(t);
        if ((articles.issued[i] as number) >= trainEnd) validationFresh++;
      }
      if (ids.length > 0) {
        const fields = formatValidacaoFields({ userId, userType, history: ids, timestampHistory: stamps });
        validacao.accepted(fields, ids.length);
        firstValidacaoFields ??= fields;
        validationUsers++;
        validationAccesses += ids.length;
      }
    }
  }
  if (malformed) {
    writeMalformedTreino(
      treino[0] as FileStats,
      firstTreinoFields,
      rng,
      trainStart,
      articles.pages[0] as string,
    );
    writeMalformedValidacao(validacao, firstValidacaoFields, rng, trainEnd, articles.pages[0] as string);
  }
  for (const f of treino) f.out.close();
  validacao.out.close();
  files.push(...treino, validacao);

  perUserLines.sort();
  const expectedFiles = files.map((f) => f.toExpected());
  let sum = 0;
  let max = 0;
  for (const s of historySizes) {
    sum += s;
    if (s > max) max = s;
  }
  return {
    generator: { seed, users, days, items: itemCount, malformed },
    period: { trainStart, trainEnd, validationEnd },
    files: expectedFiles,
    totals: {
      users,
      loggedUsers: logged,
      interactions: interactionsTotal,
      elementsDropped: droppedTotal,
      items: itemCount,
      validationUsers,
      validationAccesses,
      rowsQuarantined: expectedFiles.reduce((s, f) => s + f.rowsQuarantined, 0),
      newestInteraction: newest,
    },
    stats: {
      loggedShare: logged / users,
      historySize: { median: median(historySizes), mean: sum / users, max },
      timeOnPageMedian: median(timeSample),
      timeOnPageMin: timeMin,
      scrollMedian: median(scrollSample),
      scrollAbove100,
      noticiaShare: (itemsByContentType.noticia ?? 0) / itemCount,
      multilineBodyShare: multiline / itemCount,
      validationFreshShare: validationAccesses === 0 ? 0 : validationFresh / validationAccesses,
    },
    itemsBySection,
    itemsByRegion,
    itemsByContentType,
    ...(perUser === undefined ? {} : { perUser }),
    perUserDigest: createHash("sha256").update(perUserLines.join("\n")).digest("hex"),
    heaviestUser: heaviest,
  };
}

// --- Malformed rows: one per applicable reason, with ids of no generated reader.

function treinoFields(
  rng: Rng,
  start: number,
  page: string,
  overrides: Partial<
    Record<
      "userId" | "userType" | "historySize" | "history" | "ts" | "clicks" | "time" | "scroll" | "visits",
      string
    >
  >,
): string[] {
  const t = start + 3_600_000;
  const page2 = rng.uuid();
  const ts = joinTreinoList([String(t), String(t + 60_000)]);
  return [
    overrides.userId ?? rng.hex(64),
    overrides.userType ?? "Logged",
    overrides.historySize ?? "2",
    overrides.history ?? joinTreinoList([page, page2]),
    overrides.ts ?? ts,
    overrides.clicks ?? "1, 2",
    overrides.time ?? "60000, 45000",
    overrides.scroll ?? joinTreinoList([formatFloat(43.5), formatFloat(12)]),
    overrides.visits ?? "1, 1",
    overrides.ts ?? ts,
  ];
}

function writeMalformedTreino(
  file: FileStats,
  duplicateOf: string[] | undefined,
  rng: Rng,
  start: number,
  page: string,
): void {
  const bad: [QuarantineReason, string[]][] = [
    ["WRONG_FIELD_COUNT", treinoFields(rng, start, page, {}).slice(0, 9)],
    ["MISSING_FIELD", treinoFields(rng, start, page, { userType: "" })],
    ["BAD_USER_ID", treinoFields(rng, start, page, { userId: `user-${rng.hex(8)}` })],
    ["UNKNOWN_USER_TYPE", treinoFields(rng, start, page, { userType: "Guest" })],
    ["BAD_UUID", treinoFields(rng, start, page, { history: joinTreinoList([page, "not-a-page-id"]) })],
    [
      "BAD_TIMESTAMP",
      treinoFields(rng, start, page, { ts: joinTreinoList(["2022-07-01T10:00:00Z", String(start)]) }),
    ],
    ["BAD_NUMBER", treinoFields(rng, start, page, { clicks: "1, many" })],
    ["NEGATIVE_VALUE", treinoFields(rng, start, page, { time: "60000, -5000" })],
    ["LIST_LENGTH_MISMATCH", treinoFields(rng, start, page, { clicks: "1" })],
    ["HISTORY_SIZE_MISMATCH", treinoFields(rng, start, page, { historySize: "5" })],
    ["EMPTY_HISTORY", [rng.hex(64), "Non-Logged", "0", "", "", "", "", "", "", ""]],
  ];
  for (const [reason, fields] of bad) file.quarantined(reason, formatCsvRecord(fields));
  if (duplicateOf !== undefined) file.quarantined("DUPLICATE_ROW", formatCsvRecord(duplicateOf));
}

function writeMalformedItens(file: FileStats, duplicateOf: string[], rng: Rng): void {
  const row = (overrides: Partial<Record<0 | 1 | 2 | 3, string>>): string[] => {
    const fields = [
      rng.uuid(),
      "http://g1.globo.com/sp/sao-paulo/noticia/2022/07/01/teste.ghtml",
      "2022-07-01 10:00:00+00:00",
      "2022-07-01 10:00:00+00:00",
      "Título",
      "Corpo\nem duas linhas",
      "Legenda",
    ];
    for (const [k, v] of Object.entries(overrides)) fields[Number(k)] = v;
    return fields;
  };
  const bad: [QuarantineReason, string[]][] = [
    ["WRONG_FIELD_COUNT", row({}).slice(0, 6)],
    ["MISSING_FIELD", row({ 1: "" })],
    ["BAD_UUID", row({ 0: "pagina-123" })],
    ["BAD_URL", row({ 1: "g1.globo.com/sem-protocolo" })],
    ["BAD_DATE", row({ 2: "01/07/2022 10:00" })],
    ["DUPLICATE_ROW", duplicateOf],
  ];
  for (const [reason, fields] of bad) file.quarantined(reason, formatCsvRecord(fields));
}

function writeMalformedValidacao(
  file: FileStats,
  duplicateOf: string[] | undefined,
  rng: Rng,
  trainEnd: number,
  page: string,
): void {
  const row = (overrides: Partial<Record<0 | 1 | 2 | 3, string>>): string[] => {
    const fields = [
      rng.hex(64),
      "Logged",
      formatNumpyStringList([page]),
      formatNumpyNumberList([trainEnd + 60_000]),
    ];
    for (const [k, v] of Object.entries(overrides)) fields[Number(k)] = v;
    return fields;
  };
  const bad: [QuarantineReason, string[]][] = [
    ["WRONG_FIELD_COUNT", row({}).slice(0, 3)],
    ["MISSING_FIELD", row({ 1: "" })],
    ["BAD_USER_ID", row({ 0: "ABC" })],
    ["UNKNOWN_USER_TYPE", row({ 1: "Anonymous" })],
    ["BAD_UUID", row({ 2: "['nao-e-uuid']" })],
    ["BAD_TIMESTAMP", row({ 3: "[16605331365xx]" })],
    ["LIST_LENGTH_MISMATCH", row({ 3: formatNumpyNumberList([trainEnd + 1, trainEnd + 2]) })],
    ["EMPTY_HISTORY", row({ 2: "[]", 3: "[]" })],
  ];
  for (const [reason, fields] of bad) file.quarantined(reason, formatCsvRecord(fields));
  if (duplicateOf !== undefined) file.quarantined("DUPLICATE_ROW", formatCsvRecord(duplicateOf));
}
