/**
 * The data behind the api benchmarks: a catalogue of articles with content vectors, the cold-start
 * lists and co-visitation, readers with 1–80 reads each and the ranker bundle's spec. `bench:api` seeds
 * the local stack with it; the in-process stage split (`predict-stages.ts`) builds the same world in
 * memory, so both measure the same requests.
 */
import {
  coldstartListId,
  hashTerm,
  mulberry32,
  POPULARITY_WINDOWS_HOURS,
  packContentVector,
  sparseVectorFromWeights,
} from "@gplay/common";

const HOUR = 3_600_000;
/** The snapshot's "now". */
export const AS_OF = Date.UTC(2026, 10, 20, 0, 0, 0);
export const SECTIONS = ["sp", "rj", "mg", "rs", "pr", "ba", "pe", "ce", "df", "go"];
export const REGIONS = ["sao-paulo", "rio", "bh", "porto-alegre", "curitiba"];

export const pageId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
export const userId = (n: number) => n.toString(16).padStart(64, "0");

type Json = Record<string, unknown>;

export interface Article {
  page: string;
  section: string;
  region: string;
  issued: number;
  popularity: number;
}

function catalog(articles: number): Article[] {
  const random = mulberry32(42);
  return Array.from({ length: articles }, (_, i) => ({
    page: pageId(i + 1),
    section: SECTIONS[Math.floor(random() * SECTIONS.length)] as string,
    region: REGIONS[Math.floor(random() * REGIONS.length)] as string,
    // Published over the 14 days before the snapshot: about 1/7 are fresh (48 h).
    issued: AS_OF - Math.floor(random() * 14 * 24 * HOUR),
    popularity: Math.floor(1000 * random() ** 3),
  }));
}

/** The items-table row of article `i` (64 hashed terms in its content vector). */
export function articleItem(a: Article, i: number): Json {
  const words = new Map<number, number>();
  for (let w = 0; w < 64; w++) words.set(hashTerm(`w${(i * 13 + w * 7) % 5000}`), 1 + ((i + w) % 9));
  return {
    page: a.page,
    url: `https://g1.globo.com/${a.section}/noticia/${i}.ghtml`,
    title: `News ${i}`,
    caption: "",
    issued: a.issued,
    modified: a.issued,
    section: a.section,
    region: a.region,
    contentType: "noticia",
    contentHash: "h",
    vector: packContentVector(sparseVectorFromWeights(words)),
    updatedAt: new Date(AS_OF).toISOString(),
  };
}

const byPopularity = (articles: readonly Article[]) =>
  [...articles].sort((a, b) => b.popularity - a.popularity);

export interface BenchData {
  articles: Article[];
  /** Cold-start rows: popular lists per window and scope, and a co-visitation list per article. */
  lists: Json[];
  /** 20 co-visited neighbours per article, popular ones favoured. */
  covisit: Map<string, [string, number][]>;
  /** Reader `u + 1`'s reads (1–80 over the last two weeks, popular articles more often). */
  reads: Json[][];
}

/** Everything the api benchmarks seed or build, from one seeded stream. */
export function benchData(articleCount: number, readerCount: number): BenchData {
  const articles = catalog(articleCount);
  const random = mulberry32(7);
  const ranked = byPopularity(articles);
  const row = (listId: string, list: Article[]) => ({
    listId,
    snapshotId: "bench-snapshot",
    asOf: AS_OF,
    entries: list.slice(0, 200).map((a) => ({ page: a.page, score: a.popularity })),
    updatedAt: new Date(AS_OF).toISOString(),
  });
  const lists: Json[] = [];
  for (const w of POPULARITY_WINDOWS_HOURS) {
    const recent = ranked.filter((a) => a.issued >= AS_OF - Math.max(w, 48) * HOUR);
    lists.push(row(coldstartListId.popular("global", w), recent));
    for (const s of SECTIONS)
      lists.push(
        row(
          coldstartListId.popular(`section:${s}`, w),
          recent.filter((a) => a.section === s),
        ),
      );
    for (const r of REGIONS)
      lists.push(
        row(
          coldstartListId.popular(`region:${r}`, w),
          recent.filter((a) => a.region === r),
        ),
      );
  }
  const covisit = new Map<string, [string, number][]>();
  for (const a of articles) {
    const neighbours: [string, number][] = [];
    for (let k = 0; neighbours.length < 20 && k < 200; k++) {
      const b = ranked[Math.floor(random() ** 2 * articleCount)] as Article;
      if (b.page !== a.page && !neighbours.some(([p]) => p === b.page))
        neighbours.push([b.page, 20 - neighbours.length]);
    }
    covisit.set(a.page, neighbours);
    lists.push({
      ...row(coldstartListId.covisit(a.page), []),
      entries: neighbours.map(([page, score]) => ({ page, score })),
    });
  }
  const reads: Json[][] = [];
  for (let u = 1; u <= readerCount; u++) {
    const count = 1 + Math.floor(random() * 80);
    reads.push(
      Array.from({ length: count }, (_, i) => {
        const a = ranked[Math.floor(random() ** 2 * articleCount)] as Article;
        return {
          page: a.page,
          timestamp: Math.max(a.issued, AS_OF - 14 * 24 * HOUR) + i * 60_000,
          clicks: 1 + Math.floor(random() * 3),
          timeOnPageMs: Math.floor(random() * 300_000),
          scrollPercentage: Math.floor(random() * 100),
          pageVisits: 1,
        };
      }).filter((i) => i.timestamp < AS_OF),
    );
  }
  return { articles, lists, covisit, reads };
}

/** The users-table items of the readers (every third one logged in), built by the api's own merge. */
export function readerItems<T>(
  data: BenchData,
  applyInteractions: (existing: undefined, id: string, type: string, reads: Json[], now: Date) => T,
): T[] {
  return data.reads.map((reads, i) =>
    applyInteractions(
      undefined,
      userId(i + 1),
      (i + 1) % 3 === 0 ? "Logged" : "Non-Logged",
      reads,
      new Date(AS_OF),
    ),
  );
}

/** The served ranker: training's default size (8-wide embeddings, hidden [64, 32]) at common's candidate budget. */
export function bundleSpec(
  articles: readonly Article[],
  covisit: Map<string, [string, number][]>,
  candidates: object,
): Json {
  return {
    vocabularies: { section: SECTIONS, region: REGIONS },
    asOf: AS_OF,
    popularity: byPopularity(articles).map((a) => [a.page, a.popularity]),
    covisitation: Object.fromEntries(covisit),
    seed: 1,
    embeddingDim: 8,
    hidden: [64, 32],
    manifest: { candidates },
  };
}
