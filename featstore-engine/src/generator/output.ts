/**
 * What every generator shares: the G1 files it writes (itens, treino, validacao), the exact
 * accounting of what was written (`expected.json`), and the engagement values of a read. The
 * dynamics (who reads what, when) are the generators' own (`generate.ts`, `worlds.ts`).
 */
import { createHash } from "node:crypto";
import { type QuarantineReason, RAW_HEADERS, type RawFileKind } from "@gplay/common";
import { formatCsvRecord } from "../domain/csv.js";
import { formatItensFields, formatTreinoFields, formatValidacaoFields } from "../domain/raw-format.js";
import { type Articles, articleTopic, SHAPES } from "./articles.js";
import { articleUrl, slugify, type UrlShape } from "./catalog.js";
import { writeMalformedReaderRows } from "./malformed.js";
import { Rng } from "./rng.js";
import { body, sentence, title } from "./text.js";

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

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

/** One output file and the exact counts of what went into it. */
export class FileStats {
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

export function dateOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 === 1
    ? (sorted[(n - 1) / 2] as number)
    : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
}

/** What the itens files held, for the aggregates. */
export interface ItensSummary {
  files: FileStats[];
  itemsBySection: Record<string, number>;
  itemsByRegion: Record<string, number>;
  itemsByContentType: Record<string, number>;
  multiline: number;
}

/**
 * Writes `itens/itens-<date>.csv`, one file per issue date (articles issued before the training
 * period go into its first day's file), newest first. Each article's text comes from its own
 * `Rng(seed, "article", i)` over `topicOf(i)` (default: its section's vocabulary). `onFirstFile`
 * runs on the first file before it is closed, with its first row (malformed rows go there).
 */
export function writeItens(
  sink: OutputSink,
  seed: string,
  articles: Articles,
  trainStart: number,
  topicOf: (i: number) => readonly string[] = (i) => articleTopic(articles, i),
  onFirstFile?: (file: FileStats, firstFields: string[]) => void,
): ItensSummary {
  const summary: ItensSummary = {
    files: [],
    itemsBySection: {},
    itemsByRegion: {},
    itemsByContentType: {},
    multiline: 0,
  };
  const { itemsBySection, itemsByRegion, itemsByContentType } = summary;
  const itensByDate = new Map<string, number[]>();
  for (let i = 0; i < articles.count; i++) {
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
    summary.files.push(file);
    for (let k = list.length - 1; k >= 0; k--) {
      const i = list[k] as number;
      const ar = new Rng(seed, "article", i);
      const section = articles.section[i] as string;
      const words = topicOf(i);
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
      if (b.includes("\n")) summary.multiline++;
      itemsBySection[section] = (itemsBySection[section] ?? 0) + 1;
      itemsByRegion[articles.region[i] as string] = (itemsByRegion[articles.region[i] as string] ?? 0) + 1;
      itemsByContentType[shape] = (itemsByContentType[shape] ?? 0) + 1;
      if (firstItens === undefined) {
        firstItens = file;
        firstItensFields = fields;
      }
    }
    if (firstItens === file) onFirstFile?.(file, firstItensFields as string[]);
    file.out.close();
  }
  return summary;
}

/** One treino file per training day, all open while readers stream through. */
export function openTreinoFiles(sink: OutputSink, trainStart: number, days: number): FileStats[] {
  const treino: FileStats[] = [];
  for (let d = 0; d < days; d++) {
    const path = `treino/treino-${dateOf(trainStart + d * DAY_MS)}.csv`;
    treino.push(new FileStats(path, "treino", sink.open(path)));
  }
  return treino;
}

/** How a reader engaged with one read (the treino numeric columns). */
export interface Engagement {
  clicks: number;
  time: number;
  scroll: number;
  visits: number;
}

/** Engagement drawn as in the real files: clicks median 1, time on page ≥ 5 s (median ~60 s), scroll. */
export function drawEngagement(rng: Rng): Engagement {
  const clicks = rng.chance(0.00005) ? 1000 + rng.int(13_600) : Math.round(rng.logNormal(0, 1.3));
  const time = 5_000 + Math.round(rng.logNormal(Math.log(55_000), 0.9));
  const scroll = rng.chance(0.003)
    ? Math.round((100 + rng.logNormal(Math.log(300), 1.5)) * 100) / 100
    : Math.round(100 * rng.next() ** 1.25 * 100) / 100;
  const visits = 1 + (rng.chance(0.15) ? 1 + rng.geometric(0.5) : 0);
  return { clicks, time, scroll, visits };
}

/** Engagement statistics over every written element (medians from a bounded sample). */
export class EngagementStats {
  readonly timeSample: number[] = [];
  readonly scrollSample: number[] = [];
  timeMin = Number.POSITIVE_INFINITY;
  scrollAbove100 = 0;
  private counter = 0;
  private readonly stride: number;
  constructor(users: number) {
    this.stride = Math.max(1, Math.floor((users * 14) / 200_000));
  }
  add(e: Engagement): void {
    if (this.counter++ % this.stride === 0) {
      this.timeSample.push(e.time);
      this.scrollSample.push(e.scroll);
    }
    if (e.time < this.timeMin) this.timeMin = e.time;
    if (e.scroll > 100) this.scrollAbove100++;
  }
}

interface DayRow {
  history: string[];
  ts: number[];
  clicks: number[];
  time: number[];
  scroll: number[];
  visits: number[];
}

/** One reader's reads grouped into one treino row per training day. */
export class TreinoRows {
  private readonly rows = new Map<number, DayRow>();

  add(day: number, page: string, t: number, e: Engagement): void {
    let row = this.rows.get(day);
    if (row === undefined) {
      row = { history: [], ts: [], clicks: [], time: [], scroll: [], visits: [] };
      this.rows.set(day, row);
    }
    row.history.push(page);
    row.ts.push(t);
    row.clicks.push(e.clicks);
    row.time.push(e.time);
    row.scroll.push(e.scroll);
    row.visits.push(e.visits);
  }

  /**
   * A revisit of a page already in the day's row: the format counts it in `pageVisitsCountHistory`
   * and adds no list entry. False when the page is not in that row.
   */
  revisit(day: number, page: string): boolean {
    const row = this.rows.get(day);
    const k = row === undefined ? -1 : row.history.lastIndexOf(page);
    if (row === undefined || k < 0) return false;
    row.visits[k] = (row.visits[k] as number) + 1;
    return true;
  }

  /** Writes the rows, day by day; returns the raw history size and the day-0 row's fields. */
  write(
    userId: string,
    userType: "Logged" | "Non-Logged",
    treino: readonly FileStats[],
  ): { rawSize: number; firstDayFields: string[] | undefined } {
    let rawSize = 0;
    let firstDayFields: string[] | undefined;
    for (const [day, row] of [...this.rows].sort(([x], [y]) => x - y)) {
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
      if (day === 0) firstDayFields = fields;
    }
    return { rawSize, firstDayFields };
  }
}

/** Per-reader totals of what was written (treino and validacao). */
export class ReaderTotals {
  readonly historySizes: Uint32Array;
  readonly perUser: Record<string, number> | undefined;
  private readonly perUserLines: string[] = [];
  logged = 0;
  interactions = 0;
  dropped = 0;
  newest = 0;
  validationUsers = 0;
  validationAccesses = 0;
  validationFresh = 0;
  heaviest = { userId: "", interactions: -1 };
  firstValidacaoFields: string[] | undefined;

  constructor(readonly users: number) {
    this.historySizes = new Uint32Array(users);
    this.perUser = users <= 100_000 ? {} : undefined;
  }

  /** Reader `u`'s treino history: `kept` interactions after cleaning, `rawSize` elements written. */
  addTreino(u: number, userId: string, kept: number, dropped: number, rawSize: number): void {
    this.historySizes[u] = rawSize;
    this.dropped += dropped;
    this.interactions += kept;
    if (this.perUser !== undefined && kept > 0) this.perUser[userId] = kept;
    if (kept > 0) this.perUserLines.push(`${userId}:${kept}`);
    if (kept > this.heaviest.interactions) this.heaviest = { userId, interactions: kept };
  }

  /** Writes one validacao row; `fresh` of its accesses go to articles issued after training. */
  addValidation(
    file: FileStats,
    row: { userId: string; userType: "Logged" | "Non-Logged"; history: string[]; timestampHistory: number[] },
    fresh: number,
  ): void {
    const fields = formatValidacaoFields(row);
    file.accepted(fields, row.history.length);
    this.firstValidacaoFields ??= fields;
    this.validationUsers++;
    this.validationAccesses += row.history.length;
    this.validationFresh += fresh;
  }

  digest(): string {
    this.perUserLines.sort();
    return createHash("sha256").update(this.perUserLines.join("\n")).digest("hex");
  }
}

/**
 * Ends a data set: appends the malformed reader rows when asked (after every reader, from `rng`),
 * closes the treino and validacao files and returns the aggregates of everything written.
 */
export function finishDataset(input: {
  generator: ExpectedAggregates["generator"];
  period: ExpectedAggregates["period"];
  itens: ItensSummary;
  treino: readonly FileStats[];
  validacao: FileStats;
  readers: ReaderTotals;
  engagement: EngagementStats;
  rng: Rng;
  firstTreinoFields: string[] | undefined;
  /** An existing article, referenced by the malformed rows. */
  page: string;
}): ExpectedAggregates {
  const { treino, validacao } = input;
  if (input.generator.malformed)
    writeMalformedReaderRows(
      { treino: treino[0] as FileStats, validacao },
      { treino: input.firstTreinoFields, validacao: input.readers.firstValidacaoFields },
      input.rng,
      input.period,
      input.page,
    );
  for (const f of [...treino, validacao]) f.out.close();
  return assembleExpected({ ...input, files: [...input.itens.files, ...treino, validacao] });
}

/** The aggregates of a finished data set (every file closed). */
function assembleExpected(input: {
  generator: ExpectedAggregates["generator"];
  period: ExpectedAggregates["period"];
  files: readonly FileStats[];
  itens: ItensSummary;
  readers: ReaderTotals;
  engagement: EngagementStats;
}): ExpectedAggregates {
  const { generator, period, itens, readers, engagement } = input;
  const { users } = readers;
  const itemCount = generator.items;
  const expectedFiles = input.files.map((f) => f.toExpected());
  let sum = 0;
  let max = 0;
  for (const s of readers.historySizes) {
    sum += s;
    if (s > max) max = s;
  }
  return {
    generator,
    period,
    files: expectedFiles,
    totals: {
      users,
      loggedUsers: readers.logged,
      interactions: readers.interactions,
      elementsDropped: readers.dropped,
      items: itemCount,
      validationUsers: readers.validationUsers,
      validationAccesses: readers.validationAccesses,
      rowsQuarantined: expectedFiles.reduce((s, f) => s + f.rowsQuarantined, 0),
      newestInteraction: readers.newest,
    },
    stats: {
      loggedShare: readers.logged / users,
      historySize: { median: median(readers.historySizes), mean: sum / users, max },
      timeOnPageMedian: median(engagement.timeSample),
      timeOnPageMin: engagement.timeMin,
      scrollMedian: median(engagement.scrollSample),
      scrollAbove100: engagement.scrollAbove100,
      noticiaShare: (itens.itemsByContentType.noticia ?? 0) / itemCount,
      multilineBodyShare: itens.multiline / itemCount,
      validationFreshShare:
        readers.validationAccesses === 0 ? 0 : readers.validationFresh / readers.validationAccesses,
    },
    itemsBySection: itens.itemsBySection,
    itemsByRegion: itens.itemsByRegion,
    itemsByContentType: itens.itemsByContentType,
    ...(readers.perUser === undefined ? {} : { perUser: readers.perUser }),
    perUserDigest: readers.digest(),
    heaviestUser: readers.heaviest,
  };
}
