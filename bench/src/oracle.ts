/**
 * The oracle of a generated world (issue #13, docs/quality.md "How far the worlds allow"): from the
 * generator's hidden state (`onHidden` of featstore-engine's `generateWorld`), the probability that
 * the generator's `choose` picks each article as the first read of a session at `t` (previous read
 * -1; the re-read branch dropped, since re-reads are no targets):
 *
 *   trendShare × P_trend(a) + (1 − trendShare) × [aff × (regionWeight × P_dec(region)
 *     + (1 − regionWeight) × mean over the sections of P_dec(section)) + (1 − aff) × P_dec(all)]
 *
 * P_dec ∝ quality × 2^(−age / half-life) over the pool's unread articles of the last 10 half-lives
 * (the generator's exact-scan form; its windowed approximation for dense pools is ignored); P_trend ∝
 * quality × the burst's own decay over the bursts under way (the newest 64 of the last 6 burst
 * decay-times, as `trending` looks). As in `choose`, a branch that finds nothing falls through: no
 * burst under way → every read is a decayed one; a region or section with nothing recent → the whole
 * catalogue. Pure: no I/O.
 */

/** The hidden state the oracle reads (featstore-engine's `HiddenWorld`, structurally). */
export interface OracleWorld {
  params: { halfLifeHours: number; burstHalfLifeHours: number; trendShare: number; regionWeight: number };
  /** Articles in issue order: issue time (ms) and quality. */
  issued: ArrayLike<number>;
  quality: ArrayLike<number>;
  /** Bursts sorted by start (ms), and each burst's article. */
  burstStart: ArrayLike<number>;
  burstArticle: ArrayLike<number>;
}

/** One reader's hidden preferences (featstore-engine's `HiddenPreferences`, structurally). */
export interface OracleReader {
  affinity: number;
  /** Article indices, in issue order. */
  regionPool: ArrayLike<number>;
  sectionPools: readonly ArrayLike<number>[];
}

const HOUR_MS = 3_600_000;
/** The generator's exact scan looks back this many half-lives (world-dynamics.ts `EXACT_HALF_LIVES`). */
const EXACT_HALF_LIVES = 10;
/** `trending` weighs at most this many bursts under way, the newest first (`BURST_SCAN`). */
const BURST_SCAN = 64;
/** …and none that started more than this many burst decay-times ago. */
const BURST_HORIZON = 6;

/** Adds `share` × P_dec(pool) into `out`; false (nothing added) when the pool has nothing recent unread. */
function addDecayed(
  out: Float64Array,
  weight: Float64Array,
  pool: ArrayLike<number>,
  share: number,
): boolean {
  let total = 0;
  for (let k = 0; k < pool.length; k++) total += weight[pool[k] as number] as number;
  if (total <= 0) return false;
  const f = share / total;
  for (let k = 0; k < pool.length; k++) {
    const i = pool[k] as number;
    const w = weight[i] as number;
    if (w > 0) out[i] = (out[i] as number) + w * f;
  }
  return true;
}

/**
 * P(the first read of a session at `t` is article i), for every article i (0 for an article not yet
 * issued, too old or `read`). Sums to 1 unless nothing is readable.
 */
export function firstReadProbabilities(
  world: OracleWorld,
  reader: OracleReader,
  t: number,
  read: (article: number) => boolean,
): Float64Array {
  const n = world.issued.length;
  const decayPerMs = Math.LN2 / (world.params.halfLifeHours * HOUR_MS);
  const horizon = t - EXACT_HALF_LIVES * world.params.halfLifeHours * HOUR_MS;
  const weight = new Float64Array(n);
  const all: number[] = [];
  for (let i = 0; i < n; i++) {
    const issued = world.issued[i] as number;
    if (issued > t) break;
    all.push(i);
    if (issued > horizon && !read(i))
      weight[i] = (world.quality[i] as number) * Math.exp(-decayPerMs * (t - issued));
  }
  const out = new Float64Array(n);

  // Trending: bursts under way, by quality × the burst's decay.
  const burstDecayPerMs = Math.LN2 / (world.params.burstHalfLifeHours * HOUR_MS);
  const trend = new Map<number, number>();
  let trendTotal = 0;
  let b = world.burstStart.length - 1;
  while (b >= 0 && (world.burstStart[b] as number) > t) b--;
  const since = t - BURST_HORIZON / burstDecayPerMs;
  for (let seen = 0; b >= 0 && seen < BURST_SCAN && (world.burstStart[b] as number) >= since; b--) {
    const i = world.burstArticle[b] as number;
    if (read(i)) continue;
    seen++;
    const w =
      (world.quality[i] as number) * Math.exp(-burstDecayPerMs * (t - (world.burstStart[b] as number)));
    trend.set(i, (trend.get(i) ?? 0) + w);
    trendTotal += w;
  }
  const trendShare = trendTotal > 0 ? world.params.trendShare : 0;
  for (const [i, w] of trend) out[i] = (out[i] as number) + (trendShare * w) / trendTotal;

  // Decayed picks: by affinity from the region or one section (falling back to everything), else everything.
  const decayedShare = 1 - trendShare;
  const affine = decayedShare * reader.affinity;
  let fallback = decayedShare - affine;
  const regionShare = affine * world.params.regionWeight;
  if (!addDecayed(out, weight, reader.regionPool, regionShare)) fallback += regionShare;
  const sections = reader.sectionPools.length;
  for (const pool of reader.sectionPools) {
    const share = (affine * (1 - world.params.regionWeight)) / sections;
    if (!addDecayed(out, weight, pool, share)) fallback += share;
  }
  if (sections === 0) fallback += affine * (1 - world.params.regionWeight);
  addDecayed(out, weight, all, fallback);
  return out;
}

/**
 * The `k` most probable of `among` (article indices; default every article) by `probability`, most
 * probable first, ties by `key` (the page id); articles of probability 0 are left out.
 */
export function oracleTop(
  probability: Float64Array,
  k: number,
  key: (article: number) => string,
  among?: ArrayLike<number>,
): number[] {
  const before = (a: number, b: number) => {
    const pa = probability[a] as number;
    const pb = probability[b] as number;
    return pa !== pb ? pa > pb : key(a) < key(b);
  };
  // A sorted top-k kept by insertion: one pass over the candidates.
  const top: number[] = [];
  const consider = (i: number) => {
    if ((probability[i] as number) <= 0) return;
    if (top.length === k && !before(i, top[k - 1] as number)) return;
    let at = top.length < k ? top.length : k - 1;
    while (at > 0 && before(i, top[at - 1] as number)) at--;
    if (top.length === k) top.pop();
    top.splice(at, 0, i);
  };
  if (among === undefined) for (let i = 0; i < probability.length; i++) consider(i);
  else for (let n = 0; n < among.length; n++) consider(among[n] as number);
  return top;
}
