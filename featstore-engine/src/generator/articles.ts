import { EDITIONS, NATIONAL_SECTIONS, REGIONAL_TOPICS, slugify, type UrlShape } from "./catalog.js";
import type { Rng } from "./rng.js";
import { sentence, topicWords } from "./text.js";

/** The articles of a generated data set, as parallel arrays sorted by issue time. */
export interface Articles {
  count: number;
  pages: string[];
  issued: Float64Array;
  quality: Float32Array;
  shape: Uint8Array;
  path: string[];
  section: string[];
  region: string[];
  /** `all`, `section:<section>`, `region:<uf or nacional>` → article indices in issue order. */
  pools: Map<string, Int32Array>;
}

export const SHAPES: readonly UrlShape[] = ["noticia", "blog", "especial", "quiz", "video"];

export function cumulative(weights: readonly number[]): number[] {
  let s = 0;
  return weights.map((w) => (s += w));
}

export const EDITION_CUM = cumulative(EDITIONS.map((e) => e.weight));
export const SECTION_CUM = cumulative(NATIONAL_SECTIONS.map((s) => s.weight));

/** A regional edition drawn by its share of regional traffic. */
export function pickEdition(rng: Rng): (typeof EDITIONS)[number] {
  return EDITIONS[rng.pickCumulative(EDITION_CUM)] as (typeof EDITIONS)[number];
}

/** A national section drawn by its share of national traffic. */
export function pickNationalSection(rng: Rng): (typeof NATIONAL_SECTIONS)[number] {
  return NATIONAL_SECTIONS[rng.pickCumulative(SECTION_CUM)] as (typeof NATIONAL_SECTIONS)[number];
}

/**
 * `count` articles issued uniformly in [from, to) (whole seconds), each with a page id, a quality
 * (log-normal, median 1, spread `qualitySigma`), a URL shape and a section/region (55% regional).
 */
export function makeArticles(rng: Rng, count: number, from: number, to: number, qualitySigma = 1): Articles {
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
    a.quality[i] = rng.logNormal(0, qualitySigma);
    const x = rng.next();
    const shape = x < 0.981 ? 0 : x < 0.988 ? 1 : x < 0.993 ? 2 : x < 0.996 ? 3 : 4;
    a.shape[i] = shape;
    if (rng.chance(0.55)) {
      const e = pickEdition(rng);
      const topic = shape === 0 && rng.chance(0.06) ? `/${rng.pick(REGIONAL_TOPICS)}` : "";
      a.path[i] = `${e.uf}/${e.edition}${topic}`;
      a.section[i] = e.edition;
      a.region[i] = e.uf;
    } else {
      const s = pickNationalSection(rng);
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

/** The topic vocabulary of an article: its national section's, or the regional one. */
export function articleTopic(a: Articles, i: number): readonly string[] {
  return topicWords(a.region[i] === "nacional" ? (a.section[i] as string) : "regional");
}

/** Last position in `pool` whose article was issued at or before `t`; -1 if none. */
export function lastIssuedBefore(a: Articles, pool: Int32Array, t: number): number {
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

/** An editorial page id (`esid:…`) as found in real histories: it never matches an article. */
export function editorialId(rng: Rng): string {
  const s = rng.pick(NATIONAL_SECTIONS).section;
  const slug = slugify(sentence(rng, topicWords(s), 4, 8));
  return `esid:conteudo_editorial_g1#materia#https://g1.globo.com/${s}/noticia/2022/07/${String(1 + rng.int(28)).padStart(2, "0")}/${slug}.ghtml`;
}
