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

/** The estimates at `t`: every article's posterior mean quality, its exposure E_a(t) and the fitted λ. */
export interface QualityEstimate {
  quality: Float64Array;
  exposure: Float64Array;
  lambda: number;
}

/** A portal read of article `article` at `timestamp` (ms). */
export interface TimedArticleRead {
  article: number;
  timestamp: number;
}

/**
 * The articles' quality ESTIMATED from the portal's reads (issue #13: the ceiling of a ranker that knows
 * the world's dynamics but not the hidden quality). An article's reads before `t` are taken as
 * Poisson(λ · q_a · E_a(t)), E_a(t) = Σ over the reads r before t of d_a(t_r) / Z(t_r), with
 * d_a = 2^(−age / half-life) (0 before issue) and Z = Σ_b d_b (every article at the prior mean, so Z
 * needs no hidden quality); λ = Σ_a n_a / Σ_a m · E_a over the articles weighed; the log-normal prior
 * (median 1, σ = `qualitySigma`) is approximated by the gamma of the same mean m = e^(σ²/2) and variance
 * v = (e^(σ²) − 1) e^(σ²), so the posterior mean is (α + n_a) / (β + λ E_a), α = m²/v, β = m/v.
 * Approximations: every read is treated as a free decayed read (bursts, affine and re-reads inflate
 * some counts; the trend and region/section pools are not modelled in E), and only the articles issued
 * in the oracle's window (the last 10 half-lives before `t`) are estimated, from the reads of that
 * window; every other article keeps the prior mean (exposure 0). Returns `at(t)`: the estimates at `t`.
 * `reads` must be sorted by time. Pure: no I/O.
 */
export function qualityEstimates(
  issued: ArrayLike<number>,
  halfLifeHours: number,
  qualitySigma: number,
  reads: readonly TimedArticleRead[],
): { at(t: number): QualityEstimate; prior: { mean: number; alpha: number; beta: number } } {
  const n = issued.length;
  const k = Math.LN2 / (halfLifeHours * HOUR_MS);
  const s2 = qualitySigma * qualitySigma;
  const mean = Math.exp(s2 / 2);
  const variance = (Math.exp(s2) - 1) * Math.exp(s2);
  const alpha = (mean * mean) / variance;
  const beta = mean / variance;
  // Z at every read, incrementally: decay the previous sum, add the articles issued since.
  const z = new Float64Array(reads.length);
  let sum = 0;
  let last = Number.NEGATIVE_INFINITY;
  let next = 0;
  reads.forEach((r, j) => {
    if (j > 0) sum *= Math.exp(-k * (r.timestamp - last));
    while (next < n && (issued[next] as number) <= r.timestamp) {
      sum += Math.exp(-k * (r.timestamp - (issued[next] as number)));
      next++;
    }
    last = r.timestamp;
    z[j] = sum;
  });
  const firstAtOrAfter = (time: number, lo: number, hi: number) => {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((reads[mid] as TimedArticleRead).timestamp < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const at = (t: number): QualityEstimate => {
    const quality = new Float64Array(n).fill(mean);
    const exposure = new Float64Array(n);
    const from = t - EXACT_HALF_LIVES * halfLifeHours * HOUR_MS;
    const lo = firstAtOrAfter(from, 0, reads.length);
    const hi = firstAtOrAfter(t, lo, reads.length);
    // P[j] = Σ over the window's reads before j of e^(k (t − t_r)) / Z(t_r): relative to t, so the terms
    // grow with time (at most 2^10) and P(end) − P(τ) (the later, larger terms) loses no precision.
    const prefix = new Float64Array(hi - lo + 1);
    const count = new Map<number, number>();
    for (let j = lo; j < hi; j++) {
      const r = reads[j] as TimedArticleRead;
      const zj = z[j] as number;
      prefix[j - lo + 1] = (prefix[j - lo] as number) + (zj > 0 ? Math.exp(k * (t - r.timestamp)) / zj : 0);
      count.set(r.article, (count.get(r.article) ?? 0) + 1);
    }
    const total = prefix[hi - lo] as number;
    const estimated: number[] = [];
    let counted = 0;
    let weighed = 0;
    for (let a = 0; a < n; a++) {
      const tau = issued[a] as number;
      if (tau >= t) break;
      if (tau < from) continue;
      const e = Math.exp(-k * (t - tau)) * (total - (prefix[firstAtOrAfter(tau, lo, hi) - lo] as number));
      exposure[a] = e;
      estimated.push(a);
      counted += count.get(a) ?? 0;
      weighed += mean * e;
    }
    const lambda = weighed > 0 ? counted / weighed : 1 / mean;
    for (const a of estimated)
      quality[a] = (alpha + (count.get(a) ?? 0)) / (beta + lambda * (exposure[a] as number));
    return { quality, exposure, lambda };
  };
  return { at, prior: { mean, alpha, beta } };
}
