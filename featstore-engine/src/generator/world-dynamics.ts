/**
 * Who reads what in a world: the catalogue's stories and bursts, and the pickers that choose the
 * article of one read at time `t` under the world's params. Weighted choices look at a few
 * candidates only, so a read costs O(log n), whatever the catalogue size.
 */
import { type Articles, articleTopic, lastIssuedBefore } from "./articles.js";
import { HOUR_MS } from "./output.js";
import type { Rng } from "./rng.js";
import type { WorldParams } from "./world-params.js";

/** The articles a pick must avoid (what the reader already read). */
export interface Excluder {
  has(article: number): boolean;
}

/**
 * A decayed pick weighs every article of the last 10 half-lives exactly when there are at most
 * EXACT_SCAN of them; in denser pools it draws the age and weighs the WINDOW articles issued
 * just before it (which then span under a third of a half-life).
 */
const EXACT_SCAN = 256;
const EXACT_HALF_LIVES = 10;
const WINDOW = 8;
/** Story articles and active bursts weighed at most per pick (the newest ones). */
const STORY_SCAN = 32;
const BURST_SCAN = 64;
/** A story stays open for new articles this long after its latest one. */
const STORY_GAP_MS = 24 * HOUR_MS;
/** Breaking news breaks this long after issue, on average (exponential). */
const BURST_DELAY_MS = HOUR_MS;

const SYLLABLES =
  "ba be ca co da di fa fe ga gu la li ma mo na ni pa pe ra ri sa su ta to va vi xa za zu".split(" ");
const ENDINGS = ["", "", "s", "l", "r", "m", "nse", "polis", "ção", "inho"];

/** An invented word (a place, a person, a case): shared by a story's articles, rare elsewhere. */
function storyWord(rng: Rng): string {
  let w = "";
  for (let k = 2 + rng.int(2); k > 0; k--) w += rng.pick(SYLLABLES);
  return w + rng.pick(ENDINGS);
}

/** Draws one index in proportion to `weights[0..n)`; -1 when every weight is 0. */
function weighted(rng: Rng, weights: Float64Array, n: number): number {
  let total = 0;
  for (let k = 0; k < n; k++) total += weights[k] as number;
  if (total <= 0) return -1;
  let x = rng.next() * total;
  for (let k = 0; k < n; k++) {
    x -= weights[k] as number;
    if (x < 0) return k;
  }
  for (let k = n - 1; k >= 0; k--) if ((weights[k] as number) > 0) return k;
  return -1;
}

export class WorldCatalogue {
  /** Story of each article; the articles of each story in issue order. */
  readonly storyOf: Int32Array;
  readonly stories: Int32Array[];
  readonly burstStart: Float64Array;
  readonly burstArticle: Int32Array;
  private readonly storyWords: string[][];
  /** Per story (a story stays in one section, so one vocabulary per story). */
  private readonly topics = new Map<number, readonly string[]>();
  private readonly decayPerMs: number;
  private readonly burstDecayPerMs: number;
  private readonly scratch = new Float64Array(Math.max(EXACT_SCAN, STORY_SCAN, BURST_SCAN));
  private readonly candidates = new Int32Array(Math.max(EXACT_SCAN, STORY_SCAN, BURST_SCAN));

  constructor(
    readonly articles: Articles,
    readonly params: WorldParams,
    rng: Rng,
  ) {
    this.decayPerMs = Math.LN2 / (params.halfLifeHours * HOUR_MS);
    this.burstDecayPerMs = Math.LN2 / (params.burstHalfLifeHours * HOUR_MS);
    const n = articles.count;

    // Stories: an article joins the open story of its section (geometric sizes, mean storySize).
    this.storyOf = new Int32Array(n);
    const lists: number[][] = [];
    const open = new Map<string, { story: number; last: number }>();
    const join = 1 - 1 / params.storySize;
    for (let i = 0; i < n; i++) {
      const section = articles.section[i] as string;
      const issued = articles.issued[i] as number;
      const current = open.get(section);
      let story: number;
      if (current !== undefined && issued - current.last <= STORY_GAP_MS && rng.chance(join)) {
        story = current.story;
        current.last = issued;
      } else {
        story = lists.length;
        lists.push([]);
        open.set(section, { story, last: issued });
      }
      this.storyOf[i] = story;
      (lists[story] as number[]).push(i);
    }
    this.stories = lists.map((l) => Int32Array.from(l));
    this.storyWords = lists.map(() => Array.from({ length: 4 + rng.int(3) }, () => storyWord(rng)));

    // Bursts: breaking news, shortly after issue, sorted by start.
    const bursts: [number, number][] = [];
    for (let i = 0; i < n; i++)
      if (rng.chance(params.burstShare))
        bursts.push([(articles.issued[i] as number) + Math.floor(rng.exponential(BURST_DELAY_MS)), i]);
    bursts.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    this.burstStart = Float64Array.from(bursts.map((b) => b[0]));
    this.burstArticle = Int32Array.from(bursts.map((b) => b[1]));
  }

  /**
   * The vocabulary an article's text draws its topic words from: its section's words plus its
   * story's own words, the latter making up `storyWordShare` of the list.
   */
  topicOf(i: number): readonly string[] {
    const story = this.storyOf[i] as number;
    const section = articleTopic(this.articles, i);
    const cached = this.topics.get(story);
    if (cached !== undefined) return cached;
    const own = this.storyWords[story] as string[];
    const share = this.params.storyWordShare;
    const copies = Math.max(1, Math.round((section.length * share) / (1 - share)));
    const words = [...section];
    for (let k = 0; k < copies; k++) words.push(own[k % own.length] as string);
    this.topics.set(story, words);
    return words;
  }

  private appeal(i: number, t: number): number {
    return (
      (this.articles.quality[i] as number) *
      Math.exp(-this.decayPerMs * (t - (this.articles.issued[i] as number)))
    );
  }

  /**
   * A read at `t` in `pool`, with probability ∝ appeal × 2^(−age/half-life): exactly over the last
   * 10 half-lives when the pool holds few articles there; otherwise the age is drawn from the decay
   * (exponential) and one of the articles issued just before `t − age` is chosen by appeal. Never an
   * article issued after `t` or in `exclude`. When nothing unread is that recent: -1 if `recentOnly`
   * (a reader's region or section with no recent news: the caller reads elsewhere), else the newest
   * unread article before `t` (-1 when there is none).
   */
  decayed(rng: Rng, pool: Int32Array, t: number, exclude: Excluder, recentOnly = false): number {
    const last = lastIssuedBefore(this.articles, pool, t);
    if (last < 0) return -1;
    const meanAge = 1 / this.decayPerMs;
    const first = lastIssuedBefore(this.articles, pool, t - EXACT_HALF_LIVES * Math.LN2 * meanAge);
    if (last - first <= EXACT_SCAN) {
      let n = 0;
      for (let idx = last; idx > first; idx--) {
        const i = pool[idx] as number;
        this.candidates[n] = i;
        this.scratch[n++] = exclude.has(i) ? 0 : this.appeal(i, t);
      }
      const k = weighted(rng, this.scratch, n);
      if (k >= 0) return this.candidates[k] as number;
    } else
      for (let attempt = 0; attempt < 8; attempt++) {
        let idx = lastIssuedBefore(this.articles, pool, t - rng.exponential(meanAge));
        if (idx < 0) idx = Math.min(last, WINDOW - 1); // older than the catalogue: its oldest articles
        let n = 0;
        for (let k = 0; k < WINDOW && idx - k >= 0; k++) {
          const i = pool[idx - k] as number;
          this.candidates[n] = i;
          this.scratch[n++] = exclude.has(i) ? 0 : (this.articles.quality[i] as number);
        }
        const k = weighted(rng, this.scratch, n);
        if (k >= 0) return this.candidates[k] as number;
      }
    if (recentOnly) return -1;
    // A reader who already read everything recent: the newest unread article before t.
    for (let idx = last; idx >= 0; idx--) {
      const i = pool[idx] as number;
      if (!exclude.has(i)) return i;
    }
    return -1;
  }

  /** The next read of a story at `t`, by appeal; -1 when the story has nothing unread yet. */
  fromStory(rng: Rng, story: number, t: number, exclude: Excluder): number {
    const pool = this.stories[story] as Int32Array;
    const last = lastIssuedBefore(this.articles, pool, t);
    let n = 0;
    for (let idx = last; idx >= 0 && n < STORY_SCAN; idx--) {
      const i = pool[idx] as number;
      if (exclude.has(i)) continue;
      this.candidates[n] = i;
      this.scratch[n++] = this.appeal(i, t);
    }
    const k = weighted(rng, this.scratch, n);
    return k < 0 ? -1 : (this.candidates[k] as number);
  }

  /** A trending article at `t`: among bursts under way, by appeal × the burst's own decay. */
  trending(rng: Rng, t: number, exclude: Excluder): number {
    let lo = 0;
    let hi = this.burstStart.length - 1;
    let last = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.burstStart[mid] as number) <= t) {
        last = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const horizon = t - 6 / this.burstDecayPerMs;
    let n = 0;
    for (let b = last; b >= 0 && n < BURST_SCAN && (this.burstStart[b] as number) >= horizon; b--) {
      const i = this.burstArticle[b] as number;
      if (exclude.has(i)) continue;
      this.candidates[n] = i;
      this.scratch[n++] =
        (this.articles.quality[i] as number) *
        Math.exp(-this.burstDecayPerMs * (t - (this.burstStart[b] as number)));
    }
    const k = weighted(rng, this.scratch, n);
    return k < 0 ? -1 : (this.candidates[k] as number);
  }
}
