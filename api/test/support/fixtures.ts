import {
  AppError,
  type ArticleCatalogue,
  type BaselineName,
  type BundleManifest,
  buildRecommendationWorld,
  type CandidateOptions,
  type ColdstartItem,
  coldstartListId,
  createLogger,
  createMetrics,
  type ErasureLedgerItem,
  erasureHash,
  FEATURE_SCHEMA_VERSION,
  type Interaction,
  type LoadedBundle,
  type Logger,
  type Metrics,
  type Recommendation,
  type UserItem,
  type WorldInputs,
} from "@gplay/common";
import { WorldRanker } from "../../src/app/bundle-ranker.js";
import type { ErasureStores } from "../../src/app/erase-readers.js";
import type {
  ArticleSource,
  Clock,
  ColdstartSource,
  Ranker,
  RankerInput,
  RankOptions,
  RawEventSink,
  SeenEventStore,
  UserStore,
} from "../../src/app/ports.js";
import type { ArticleMeta } from "../../src/domain/articles.js";
import { applyInteractions } from "../../src/domain/reader.js";

/** Snapshot time of the fixtures' cold-start lists. */
export const AS_OF = Date.UTC(2022, 7, 15, 0, 0, 0);
const HOUR = 3_600_000;

/** A deterministic v4-shaped page id. */
export function pageId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

/** A deterministic 64-hex reader id. */
export function userId(n: number): string {
  return n.toString(16).padStart(64, "0");
}

export function article(n: number, overrides: Partial<ArticleMeta> = {}): ArticleMeta {
  return {
    page: pageId(n),
    url: `http://g1.globo.com/sp/sao-paulo/noticia/2022/08/14/news-${n}.ghtml`,
    title: `News ${n}`,
    section: "sp",
    region: "sao-paulo",
    issued: AS_OF - 2 * HOUR,
    modified: AS_OF - 2 * HOUR,
    contentType: "noticia",
    vector: new Uint8Array([1, 2, 3]),
    ...overrides,
  };
}

export function coldstartRow(
  listId: string,
  pages: readonly string[],
  snapshotId = "snap-1",
  asOf = AS_OF,
): ColdstartItem {
  return {
    listId,
    snapshotId,
    asOf,
    entries: pages.map((page, i) => ({ page, score: pages.length - i })),
    updatedAt: new Date(asOf).toISOString(),
  };
}

export function popularRow(
  scope: Parameters<typeof coldstartListId.popular>[0],
  pages: readonly string[],
  snapshotId = "snap-1",
) {
  return coldstartRow(coldstartListId.popular(scope, 24), pages, snapshotId);
}

export function interaction(page: string, timestamp: number): Interaction {
  return { page, timestamp, clicks: 1, timeOnPageMs: 60_000, scrollPercentage: 50, pageVisits: 1 };
}

/** A reader whose log holds `pages` (read an hour apart, oldest first). */
export function reader(id: string, pages: readonly string[], extra: Partial<UserItem> = {}): UserItem {
  const interactions = pages.map((p, i) => interaction(p, AS_OF - 1_000 * HOUR + i * 60_000));
  return { ...applyInteractions(undefined, id, "Logged", interactions, new Date(AS_OF)), ...extra };
}

/** The users table in memory, with the conditional-write semantics of the real one. */
export class FakeUserStore implements UserStore {
  readonly items = new Map<string, UserItem>();
  gets = 0;
  puts = 0;
  /** Conflicts to inject before the next successful writes (another writer racing). */
  conflictsToInject = 0;
  failGets: AppError | undefined;
  /** Writes to fail (the table unavailable) before the next ones succeed. */
  failPuts = 0;

  async getUser(id: string): Promise<UserItem | undefined> {
    this.gets += 1;
    if (this.failGets !== undefined) throw this.failGets;
    const item = this.items.get(id);
    return item === undefined ? undefined : structuredClone(item);
  }

  async putUser(item: UserItem, expectedVersion: number | undefined): Promise<void> {
    this.puts += 1;
    if (this.failPuts > 0) {
      this.failPuts -= 1;
      throw new AppError("UPSTREAM_UNAVAILABLE", "users table unavailable");
    }
    if (this.conflictsToInject > 0) {
      this.conflictsToInject -= 1;
      const stored = this.items.get(item.userId);
      // Simulate a concurrent writer: bump the stored version so the retry must re-read.
      if (stored !== undefined) this.items.set(item.userId, { ...stored, version: stored.version + 1 });
      throw new AppError("CONFLICT", "conditional check failed");
    }
    const stored = this.items.get(item.userId);
    if (stored?.version !== expectedVersion) throw new AppError("CONFLICT", "conditional check failed");
    this.items.set(item.userId, structuredClone(item));
  }
}

export class FakeArticleSource implements ArticleSource {
  scans = 0;
  fail: Error | undefined;
  constructor(public articles: ArticleMeta[]) {}
  async scanArticles(): Promise<ArticleMeta[]> {
    this.scans += 1;
    if (this.fail !== undefined) throw this.fail;
    return [...this.articles];
  }
}

export class FakeColdstartSource implements ColdstartSource {
  readonly rows = new Map<string, ColdstartItem>();
  requested: string[][] = [];
  constructor(rows: ColdstartItem[] = []) {
    for (const row of rows) this.rows.set(row.listId, row);
  }
  put(...rows: ColdstartItem[]): void {
    for (const row of rows) this.rows.set(row.listId, row);
  }
  async getLists(listIds: readonly string[]): Promise<Map<string, ColdstartItem>> {
    this.requested.push([...listIds]);
    const out = new Map<string, ColdstartItem>();
    for (const id of listIds) {
      const row = this.rows.get(id);
      if (row !== undefined) out.set(id, row);
    }
    return out;
  }
}

/** The event-ids table in memory: a claim succeeds once per key until the key is released. */
export class FakeSeenEvents implements SeenEventStore {
  readonly keys = new Set<string>();
  async claim(keys: readonly string[]): Promise<Set<string>> {
    const claimed = new Set<string>();
    for (const key of keys)
      if (!this.keys.has(key)) {
        this.keys.add(key);
        claimed.add(key);
      }
    return claimed;
  }
  async release(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.keys.delete(key);
  }
}

/** The erasure ledger and reader-keyed tables in memory, over the fake users and event-ids stores. */
export class FakeErasureStores implements ErasureStores {
  readonly ledger = new Map<string, ErasureLedgerItem>();
  constructor(
    private readonly users: FakeUserStore,
    private readonly seen: FakeSeenEvents,
  ) {}
  async addLedgerEntries(entries: readonly ErasureLedgerItem[]): Promise<void> {
    for (const e of entries) if (!this.ledger.has(e.userHash)) this.ledger.set(e.userHash, e);
  }
  async erasedAt(userIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of userIds) {
      const e = this.ledger.get(erasureHash(id));
      if (e !== undefined) out.set(id, Date.parse(e.erasedAt));
    }
    return out;
  }
  async existingUsers(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.users.items.has(id)));
  }
  async deleteUsers(userIds: readonly string[]): Promise<number> {
    for (const id of userIds) this.users.items.delete(id);
    return userIds.length;
  }
  async deleteEventIds(userIds: readonly string[]): Promise<number> {
    const keys = [...this.seen.keys].filter((k) => userIds.includes(k.split("#")[0] ?? ""));
    for (const k of keys) this.seen.keys.delete(k);
    return keys.length;
  }
}

export class FakeSink implements RawEventSink {
  readonly objects = new Map<string, string>();
  failures = 0;
  async putRawObject(key: string, body: string): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new AppError("UPSTREAM_UNAVAILABLE", "bucket unavailable");
    }
    this.objects.set(key, body);
  }
}

/** A baseline's bundle (its strategy and candidate structures, no network) at `AS_OF`. */
export function baselineBundle(
  strategy: { name: BaselineName; params: Record<string, number> },
  tables: Pick<LoadedBundle, "popularity" | "covisitation">,
  candidates: BundleManifest["candidates"],
): LoadedBundle {
  return {
    manifest: {
      schemaVersion: 1,
      featureSchemaVersion: FEATURE_SCHEMA_VERSION,
      createdAt: new Date(AS_OF).toISOString(),
      snapshot: { snapshotId: "snap-1", manifestKey: "snapshots/1/manifest.json", digest: "sha256:x" },
      asOf: AS_OF,
      inputs: [],
      numericFeatures: [],
      recentReads: 10,
      strategy: { kind: "baseline", ...strategy },
      candidates,
      files: { popularity: "candidates/popularity.json", covisitation: "candidates/covisitation.json" },
      params: {},
    },
    ...tables,
  };
}

/** A catalogue of the fixture articles 1…n (`article(i)` with defaults), as the world reads them. */
export function fixtureCatalogue(n = 40): ArticleCatalogue {
  const sources = new Map(
    Array.from({ length: n }, (_, i) => {
      const a = article(i + 1);
      return [a.page, { page: a.page, section: a.section, region: a.region, issued: a.issued }] as const;
    }),
  );
  return { get: (page) => sources.get(page), entries: () => sources.values() };
}

/**
 * A served version whose scores come from a fixed table (unknown pages score 0), run through the real
 * recommendation path (`WorldRanker`), recording the candidates it was asked to score. Its world is
 * the fixture catalogue unless `useCatalogue` points it at a service's loaded articles.
 */
export class FakeRanker implements Ranker {
  calls: { interactions: number; candidates: string[] }[] = [];
  #catalogue: () => ArticleCatalogue = () => DEFAULT_CATALOGUE;
  #inner: WorldRanker | undefined;

  constructor(
    readonly modelVersion: string,
    private readonly scores: ReadonlyMap<string, number> = new Map(),
    private readonly behaviour: "ok" | "throw" | "wrong-length" = "ok",
    /** Time each ranking takes; tests change it to keep a request in flight. */
    public delayMs = 0,
    private readonly structures: Pick<WorldInputs, "popularity" | "popularityScales" | "covisitation"> = {
      popularity: new Map(),
      popularityScales: new Map(),
      covisitation: new Map(),
    },
    /** Candidate budgets of the version's world (every fixture article fits the popular tier by default). */
    private readonly candidates: CandidateOptions = {
      popular: 100,
      covisited: 10,
      contentSimilar: 5,
      scoped: 0,
      freshHours: 48,
      popularityHalfLifeHours: 6,
    },
  ) {}

  useCatalogue(catalogue: () => ArticleCatalogue): this {
    this.#catalogue = catalogue;
    this.#inner = undefined;
    return this;
  }

  async recommend(reader: RankerInput, options: RankOptions): Promise<Recommendation> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.behaviour === "throw") throw new Error("model exploded");
    this.#inner ??= new WorldRanker(
      this.modelVersion,
      (catalogue) =>
        buildRecommendationWorld({
          asOf: AS_OF,
          readsBefore: Number.POSITIVE_INFINITY,
          catalogue,
          candidates: this.candidates,
          ...this.structures,
        }),
      {
        score: (profile, pages) => {
          this.calls.push({ interactions: profile.interactions, candidates: [...pages] });
          const scores = pages.map((page) => this.scores.get(page) ?? 0);
          return this.behaviour === "wrong-length" ? scores.slice(1) : scores;
        },
      },
      this.#catalogue,
    );
    return this.#inner.recommend(reader, options);
  }
}

const DEFAULT_CATALOGUE = fixtureCatalogue();

export class ManualClock implements Clock {
  constructor(public t = AS_OF) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A logger whose JSON lines are kept in memory. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "api",
    version: "test",
    level: "debug",
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

export function memoryMetrics(): { metrics: Metrics; documents: Record<string, unknown>[] } {
  const documents: Record<string, unknown>[] = [];
  return {
    metrics: createMetrics({ service: "api", environment: "test" }, { write: (d) => documents.push(d) }),
    documents,
  };
}
