/**
 * How far each quality world lets anyone beat the best baseline (issue #13; docs/quality.md, "How far
 * the worlds allow"): an ORACLE that ranks from the generator's hidden state — at each case's first
 * visit of the window, every unread article issued before it by the probability that the generator's
 * `choose` makes it the first read of a session (src/oracle.ts) — scored on exactly the cases the
 * quality bench scores (test window and validacao, readers with history and new readers, training's
 * sampling, visits and metric functions), beside every tuned baseline served as training serves them.
 * Also the oracle with only what the served world knows at the visit (the articles issued and bursts
 * started before its hour bucket's start: training serves every scorer from the hour's world), and that
 * one restricted to the reader's candidate pool (the decayed-popularity baseline's world at the visit):
 * how much the hour and the pool cap; and the hour's oracle blind to the articles' hidden quality (all 1):
 * what knowing the dynamics without knowing which articles readers like is worth; and the hour's oracle
 * with each article's quality ESTIMATED from the portal's reads before the hour (src/oracle.ts
 * `qualityEstimates`: the gamma posterior mean of a Poisson read count, every read taken as a free
 * decayed read), at the hour's start and within the pool: the ceiling of a ranker that knows the
 * dynamics and the quality distribution and must learn each article's appeal from its reads.
 *
 *   node --conditions=@gplay/source --import tsx bench/src/oracle-ceiling.ts [--worlds 6] [--seeds a,b] [--users 20000] [--days 7]
 *
 * A ceiling only approximately: it knows the first read of a visit, not the later ones (they follow the
 * story of the first read), it drops the re-read branch and uses the generator's exact-scan form of
 * the decayed pick; a method could beat it on the later reads of a visit.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { candidatePool } from "@gplay/common";
import {
  firstReadProbabilities,
  type OracleReader,
  type OracleWorld,
  oracleTop,
  qualityEstimates,
  type TimedArticleRead,
} from "./oracle.js";
import {
  generatedWorld,
  loadRepoModule as load,
  WORLD_OPTIONS,
  type WorldData,
  worldSeeds,
} from "./quality-worlds.js";

const { values } = parseArgs({ options: WORLD_OPTIONS });

const K = 10;
interface Figures {
  ndcg10: number;
  hr10: number;
  readers: number;
}
type Segment = "history" | "cold";
type Populations = Record<"all" | Segment, Figures>;
interface Case {
  userId: string;
  targets: Set<string>;
  cold: boolean;
}
interface UserRead {
  userId: string;
  page: string;
  timestamp: number;
}
type Data = Omit<WorldData, "readers" | "events"> & {
  readers: Map<string, { log: { page: string; timestamp: number }[] }>;
  events: UserRead[];
};
interface HiddenWorld extends OracleWorld {
  pages: readonly string[];
}
interface HiddenReader extends OracleReader {
  userId: string;
}

/**
 * The live estimate's step: each visit's quality estimate is the one at the last multiple of this many
 * minutes before it (the reads up to then), as the api's live popularity knows the reads up to the visit.
 */
const LIVE_STEP_MINUTES = 5;
const LIVE_STEP_MS = LIVE_STEP_MINUTES * 60_000;

/**
 * The oracle's variants, in the order each window's table prints them: the key, the row's label, the
 * summary's title, and whether the row carries a 90 % paired interval against the best baseline.
 */
const VARIANTS = [
  { key: "oracle", label: "oracle", title: "oracle", interval: true },
  {
    key: "hour",
    label: "oracle at the hour's start",
    title: "oracle at the hour's start (what the served world knows)",
    interval: false,
  },
  {
    key: "pool",
    label: "  … and within the pool",
    title: "oracle at the hour's start within the candidate pool",
    interval: false,
  },
  {
    key: "blind",
    label: "  … blind to quality",
    title: "oracle at the hour's start, blind to quality",
    interval: false,
  },
  {
    key: "estimated",
    label: "  … estimated quality",
    title: "oracle at the hour's start, quality estimated from the reads before the hour",
    interval: true,
  },
  {
    key: "estimatedPool",
    label: "  … estimated, within the pool",
    title: "oracle at the hour's start, quality estimated, within the candidate pool",
    interval: true,
  },
  {
    key: "estimatedLive",
    label: "  … estimated up to the visit",
    title: `oracle at the hour's start, quality estimated from the reads up to ${LIVE_STEP_MINUTES} minutes before the visit`,
    interval: true,
  },
  {
    key: "estimatedLivePool",
    label: "  … that, within the pool",
    title: `oracle at the hour's start, quality estimated up to the visit, within the candidate pool`,
    interval: true,
  },
  {
    key: "estimatedFirst",
    label: "  … estimated without re-reads",
    title: "oracle at the hour's start, quality estimated without the readers' re-reads",
    interval: true,
  },
] as const;
type VariantKey = (typeof VARIANTS)[number]["key"];
/** The summary's order of the variants. */
const SUMMARY_ORDER: readonly VariantKey[] = [
  "oracle",
  "hour",
  "blind",
  "pool",
  "estimated",
  "estimatedPool",
  "estimatedLive",
  "estimatedLivePool",
  "estimatedFirst",
];
const perVariant = <T>(make: (key: VariantKey) => T) =>
  Object.fromEntries(VARIANTS.map((v) => [v.key, make(v.key)])) as Record<VariantKey, T>;

const f4 = (v: number) => v.toFixed(4);
const load1 = () => loadavg()[0]?.toFixed(1) ?? "?";

async function main(): Promise<void> {
  const {
    DEFAULT_TRAIN_CONFIG,
    snapshotWorld,
    testWindow,
    tuneOnValidationWindow,
    validacaoCases,
    vocabularies,
  } = await load("training/src/app/train.ts");
  const { BASELINE_NAMES, evaluateBaselines, noveltyBasis, strategyLists } = await load(
    "training/src/domain/baselines.ts",
  );
  const { evaluateLists, ndcgByCase, pairedRatioInterval, segmentCases } = await load(
    "training/src/domain/metrics.ts",
  );
  const { liveServing, REBUILD_EVERY_MS, validacaoVisits, windowVisits } = await load(
    "training/src/domain/served-window.ts",
  );
  const { timeSplit } = await load("training/src/domain/split.ts");
  const { vocabularyIndex } = await import("@gplay/common");
  const config = DEFAULT_TRAIN_CONFIG;

  const seeds = worldSeeds(Number(values.worlds), values.seeds);
  console.log(
    `oracle ceiling: ${seeds.length} worlds × ${values.users} readers × ${values.days} days; load ${load1()}\n` +
      "The oracle ranks, at each case's first visit, the unread articles by the generator's probability of\n" +
      "being the visit's first read (hidden quality, decay, bursts, the reader's affinity and pools; no re-reads,\n" +
      "exact-scan decay): a ceiling only approximately (the later reads of a visit follow the first one's story).\n" +
      "Same cases, visits, sampling and metrics as the quality bench; baselines tuned and served as training does.\n" +
      "At the hour's start: only the articles and bursts the visit's hour world knows (every scorer is served from it);\n" +
      "… and within the pool: that, ranking only the reader's candidate pool (the decayed-popularity baseline's);\n" +
      "… blind to quality: that (not the pool), with every article's hidden quality 1;\n" +
      "… estimated quality: that, each article's quality its posterior mean given its portal reads before the hour\n" +
      "  (reads ~ Poisson(λ·q·E), E = Σ_reads 2^(−age/half-life)/Z, Z = Σ 2^(−age/half-life) over the articles,\n" +
      "  the log-normal prior as a gamma of the same mean and variance; approximations: every read taken as a free\n" +
      "  decayed read — bursts, affine reads and re-reads inflate some counts — and only the articles of the last\n" +
      "  10 half-lives estimated, from that window's reads); at the hour's start and within the pool; from the reads\n" +
      `  up to the visit (to ${LIVE_STEP_MINUTES} minutes), the articles still the hour's, as the served baselines' live popularity\n` +
      "  knows them; and from the reads without each reader's re-reads of a page (drawn from the reader's history).",
  );
  const summary: { seed: string; window: string; segment: Segment; ratios: Record<VariantKey, number> }[] =
    [];

  for (const seed of seeds) {
    const started = performance.now();
    let hidden: HiddenWorld | undefined;
    const readers = new Map<string, HiddenReader>();
    const { data: generated, params } = await generatedWorld(
      seed,
      { users: Number(values.users), days: Number(values.days) },
      undefined,
      { world: (w: HiddenWorld) => (hidden = w), reader: (r: HiddenReader) => readers.set(r.userId, r) },
    );
    const data = generated as Data;
    if (hidden === undefined) throw new Error("the generator told no hidden state");
    const world: HiddenWorld = hidden;
    const indexOf = new Map(world.pages.map((page, i) => [page, i]));
    const pageOf = (i: number) => world.pages[i] as string;
    const qualityBlind: OracleWorld = { ...world, quality: new Float32Array(world.pages.length).fill(1) };

    // The quality bench's baselines, as `trainAndEvaluate` tunes and serves them (training's own code).
    const split = timeSplit(
      data.asOf,
      config.split,
      (data.events[0] as { timestamp: number } | undefined)?.timestamp,
    );
    const vIndex = vocabularyIndex(vocabularies(data, split.validCut));
    const tuned = tuneOnValidationWindow(data, split, vIndex, config);
    const candidates = { ...config.candidates, popularityHalfLifeHours: tuned.halfLifeHours };
    // The windows' worlds and readers as `trainAndEvaluate` makes them (training's own functions).
    const { world: testWorld, cases: testCases }: { world: unknown; cases: Case[] } = testWindow(
      data,
      split,
      vIndex,
      candidates,
      tuned.servingPopularity,
      config,
    );
    const fullWorld = snapshotWorld(data, vIndex, candidates, tuned.servingPopularity);
    const vCases: Case[] = validacaoCases(data, config);
    const windows = [
      {
        name: "test",
        world: testWorld,
        cases: testCases,
        visits: windowVisits(data, testCases, split.testCut, split.end),
        readBefore: split.testCut,
        // The window's portal reads (`windowVisits`' reads, with their readers).
        windowReads: data.events.filter((e) => e.timestamp >= split.testCut && e.timestamp <= split.end),
      },
      {
        name: "validacao",
        world: fullWorld,
        cases: vCases,
        visits: validacaoVisits(data, vCases),
        readBefore: Number.POSITIVE_INFINITY,
        windowReads: [...data.validation].flatMap(([userId, accesses]) =>
          accesses.map((a) => ({ userId, page: a.page, timestamp: a.timestamp })),
        ),
      },
    ];

    const p = (k: string) => Number(params[k] ?? Number.NaN).toFixed(3);
    console.log(
      `\n${seed}: affinity ${p("affinity")} (spread ${p("affinitySpread")}, region weight ${p("regionWeight")}), ` +
        `trends ${p("trendShare")}, half-life ${p("halfLifeHours")} h, ${p("articlesPerHourPer20kReaders")} articles/h per 20k, ` +
        `re-reading ${p("rereading")}; tuned half-life ${tuned.halfLifeHours} h, serving popularity ${tuned.servingPopularity.kind}`,
    );
    for (const w of windows) {
      const serving = liveServing(w.world, w.visits);
      const basis = noveltyBasis(w.world);
      const baselines: Record<string, Populations> = evaluateBaselines(serving, w.cases, tuned, basis);
      const poolWorlds = serving.worldsOf(tuned.strategies.popularity);
      const lists = perVariant((): string[][] => []);
      // The portal reads the served path knows: the world's up to its cut, then the window's reads; and
      // those without a reader's re-reads (a later read of a page the same reader read before), which
      // the generator draws from the reader's history, not by quality.
      const userReads = [...data.events.filter((e) => e.timestamp < w.world.cut), ...w.windowReads].sort(
        (x, y) => x.timestamp - y.timestamp,
      );
      const portalReads: TimedArticleRead[] = [];
      const firstReads: TimedArticleRead[] = [];
      const seen = new Set<string>();
      for (const r of userReads) {
        const a = indexOf.get(r.page);
        if (a === undefined) continue;
        portalReads.push({ article: a, timestamp: r.timestamp });
        const key = `${r.userId}\u0000${r.page}`;
        if (seen.has(key)) continue;
        seen.add(key);
        firstReads.push({ article: a, timestamp: r.timestamp });
      }
      const estimator = (reads: TimedArticleRead[]) => {
        const estimates = qualityEstimates(
          world.issued,
          world.params.halfLifeHours,
          Number(params.qualitySigma),
          reads,
        );
        const byTime = new Map<number, OracleWorld>();
        return (time: number): OracleWorld => {
          let at = byTime.get(time);
          if (at === undefined) {
            at = { ...world, quality: estimates.at(time).quality };
            byTime.set(time, at);
          }
          return at;
        };
      };
      const estimatedAt = estimator(portalReads);
      const firstReadsAt = estimator(firstReads);
      w.cases.forEach((c, i) => {
        const reader = readers.get(c.userId);
        if (reader === undefined) throw new Error(`no hidden preferences for reader ${c.userId}`);
        const read = new Set<number>();
        for (const r of data.readers.get(c.userId)?.log ?? [])
          if (r.timestamp < w.readBefore) {
            const a = indexOf.get(r.page);
            if (a !== undefined) read.add(a);
          }
        const t = w.visits.first[i] as number;
        const probability = firstReadProbabilities(world, reader, t, (a) => read.has(a));
        lists.oracle.push(oracleTop(probability, K, pageOf).map(pageOf));
        // What the served world knows: the articles and bursts of the hour bucket's start (the same
        // order otherwise: shifting t scales every decayed and every burst weight alike).
        const hourStart = Math.floor(t / REBUILD_EVERY_MS) * REBUILD_EVERY_MS;
        const known = firstReadProbabilities(world, reader, hourStart, (a) => read.has(a));
        lists.hour.push(oracleTop(known, K, pageOf).map(pageOf));
        // The same without the articles' hidden quality (every article 1): what is left to a method
        // that knows the dynamics but not which articles readers like.
        const blind = firstReadProbabilities(qualityBlind, reader, hourStart, (a) => read.has(a));
        lists.blind.push(oracleTop(blind, K, pageOf).map(pageOf));
        const pool = candidatePool(poolWorlds(i), serving.profile(c.userId)).flatMap((e) => {
          const a = indexOf.get(e.page);
          return a === undefined ? [] : [a];
        });
        lists.pool.push(oracleTop(known, K, pageOf, pool).map(pageOf));
        // What a learned ranker could know at best: the dynamics, and each article's quality estimated
        // from the portal's reads before the hour.
        const estimated = firstReadProbabilities(estimatedAt(hourStart), reader, hourStart, (a) =>
          read.has(a),
        );
        lists.estimated.push(oracleTop(estimated, K, pageOf).map(pageOf));
        lists.estimatedPool.push(oracleTop(estimated, K, pageOf, pool).map(pageOf));
        // The same with the quality estimated from the reads up to the visit (to the live step), as the
        // api's live popularity and the served baselines know them; the articles still the hour's.
        const live = firstReadProbabilities(
          estimatedAt(Math.floor(t / LIVE_STEP_MS) * LIVE_STEP_MS),
          reader,
          hourStart,
          (a) => read.has(a),
        );
        lists.estimatedLive.push(oracleTop(live, K, pageOf).map(pageOf));
        lists.estimatedLivePool.push(oracleTop(live, K, pageOf, pool).map(pageOf));
        const fromFirst = firstReadProbabilities(firstReadsAt(hourStart), reader, hourStart, (a) =>
          read.has(a),
        );
        lists.estimatedFirst.push(oracleTop(fromFirst, K, pageOf).map(pageOf));
      });
      const figures = perVariant((key): Populations => evaluateLists(w.cases, lists[key], basis));
      const byCase = perVariant((key) => ndcgByCase(w.cases, lists[key]));
      console.log(`  ${w.name}: ${w.cases.length} readers`);
      for (const segment of ["history", "cold"] as const) {
        let best: string = BASELINE_NAMES[0];
        for (const name of BASELINE_NAMES)
          if (
            (baselines[name] as Populations)[segment].ndcg10 >
            (baselines[best] as Populations)[segment].ndcg10
          )
            best = name;
        const b = (baselines[best] as Populations)[segment];
        const bestByCase = ndcgByCase(w.cases, strategyLists(serving, w.cases, tuned.strategies[best]));
        const inSegment = segmentCases(w.cases, segment);
        const ratio = (f: Figures) => f.ndcg10 / Math.max(b.ndcg10, 1e-9);
        console.log(
          `   ${segment === "history" ? "readers with history" : "new readers"} (${b.readers})   NDCG@10 HR@10    ÷ best baseline`,
        );
        for (const v of VARIANTS) {
          const f = figures[v.key][segment];
          let interval = "";
          if (v.interval) {
            const { low, high } = pairedRatioInterval(byCase[v.key], bestByCase, inSegment);
            interval = ` (90 % ${low.toFixed(3)}–${high.toFixed(3)})`;
          }
          console.log(
            `    ${v.label.padEnd(34)} ${f4(f.ndcg10)}  ${f4(f.hr10)}   ×${ratio(f).toFixed(3)}${interval}`,
          );
        }
        for (const name of BASELINE_NAMES) {
          const f = (baselines[name] as Populations)[segment];
          console.log(
            `    ${(name === best ? `${name} (best)` : name).padEnd(34)} ${f4(f.ndcg10)}  ${f4(f.hr10)}   ×${ratio(f).toFixed(3)}`,
          );
        }
        summary.push({
          seed,
          window: w.name,
          segment,
          ratios: perVariant((key) => ratio(figures[key][segment])),
        });
      }
    }
    console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s, load ${load1()}`);
  }

  for (const key of SUMMARY_ORDER) {
    const { title } = VARIANTS.find((v) => v.key === key) as (typeof VARIANTS)[number];
    console.log(`\n${title}: NDCG@10 ÷ best baseline, per world (${seeds.join(", ")}):`);
    for (const window of ["test", "validacao"])
      for (const segment of ["history", "cold"] as const) {
        const rs = summary
          .filter((r) => r.window === window && r.segment === segment)
          .map((r) => r.ratios[key]);
        console.log(
          `  ${window.padEnd(9)} ${segment.padEnd(7)} ${rs.map((r) => r.toFixed(3)).join("  ")}   min ${Math.min(...rs).toFixed(3)}`,
        );
      }
  }
  console.log(`load ${load1()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
