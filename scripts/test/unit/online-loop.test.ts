/**
 * The online loop end to end, in one process and seeded (issue #19): the api's real app serves two
 * versions (champion and challenger, a sticky half of the readers each) to the readers of a generated
 * world, who click by the world's hidden preferences (the click simulator, never the model); the
 * impression files the api wrote are cleaned by the featstore-engine's own ingestion code; the
 * decision job (training's use case) runs on them after each round, as the schedule would, until it
 * decides. The stores are in-memory fakes (the api's test support), so it runs anywhere.
 *
 * The two versions rank the same 99 articles by how many simulated readers favour each: "good" most
 * favoured first, "bad" least favoured first. Their true CTR ratio for these readers is computed
 * from the click model and asserted ≥ 1.3 before anything else. The test: α = 0.05, power 0.8 at a
 * ratio of 1.3, maximum sample 1,500 clicks (training/src/domain/online-decision.ts).
 */
import {
  CHALLENGER_ALIAS,
  CHAMPION_ALIAS,
  type ImpressionRecord,
  mulberry32,
  toImpressionRecord,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { article, FakeRanker, reader } from "../../../api/test/support/fixtures.js";
import { buildService, post, type Service, startService } from "../../../api/test/support/service.js";
import { cleanRawFile } from "../../../featstore-engine/src/domain/raw-file.js";
import {
  listClickProbability,
  simulateClicks,
} from "../../../featstore-engine/src/generator/click-simulator.js";
import { generateWorld, type HiddenReader } from "../../../featstore-engine/src/generator/worlds.js";
import { type OnlineDecisionReport, runOnlineDecision } from "../../../training/src/app/decide-online.js";
import type { MetricPoint, OnlineRegistry } from "../../../training/src/app/ports.js";

const K = 10;

/** A registry and tracker in memory: aliases, version tags, runs' metrics. */
class FakeMlflow implements OnlineRegistry {
  aliases = new Map<string, string>();
  versionTags = new Map<string, Record<string, string>>();
  runs: { tags: Record<string, string>; metrics: MetricPoint[] }[] = [];
  production: string | undefined;
  async aliasVersion(_n: string, alias: string) {
    return this.aliases.get(alias);
  }
  async downloadVersion(): Promise<void> {}
  async registerVersion(): Promise<string> {
    return "0";
  }
  async setAlias(_n: string, alias: string, version: string) {
    this.aliases.set(alias, version);
  }
  async moveProductionStage(_n: string, version: string) {
    this.production = version;
  }
  async deleteAlias(_n: string, alias: string) {
    this.aliases.delete(alias);
  }
  async setVersionTags(_n: string, version: string, tags: Record<string, string>) {
    this.versionTags.set(version, { ...this.versionTags.get(version), ...tags });
  }
  async startRun(_e: string, _name: string, tags: Record<string, string>) {
    this.runs.push({ tags: { ...tags }, metrics: [] });
    return `run-${this.runs.length}`;
  }
  async logParams() {}
  async logMetrics(_r: string, metrics: readonly MetricPoint[]) {
    this.runs.at(-1)?.metrics.push(...metrics);
  }
  async setTags(_r: string, tags: Record<string, string>) {
    Object.assign(this.runs.at(-1)?.tags ?? {}, tags);
  }
  async logDataset() {}
  async uploadDir() {}
  async finishRun() {}
}

/** The simulated world: its readers (hidden preferences) and 100 of its articles. */
function simulatedWorld() {
  const readers: HiddenReader[] = [];
  const files = new Map<string, string>();
  generateWorld(
    { users: 240, days: 2, seed: "online-loop", onReader: (r) => readers.push(r) },
    {
      open: (path) => {
        const parts: string[] = [];
        return { write: (text) => parts.push(text), close: () => files.set(path, parts.join("")) };
      },
    },
  );
  return { readers, files };
}

async function worldPages(files: Map<string, string>): Promise<string[]> {
  const pages: string[] = [];
  for (const [path, text] of files) {
    if (!path.includes("itens")) continue;
    const file = await cleanRawFile([text], path);
    for await (const batch of file.batches)
      for (const o of batch) if (o.kind === "itens") pages.push(o.row.page);
  }
  return pages;
}

/** The impression log the api wrote, through the engine's cleaning, as processed records. */
async function ingestedLog(service: Service): Promise<{ records: ImpressionRecord[]; quarantined: number }> {
  await service.impressions.flush();
  const records: ImpressionRecord[] = [];
  let quarantined = 0;
  for (const [key, body] of service.sink.objects) {
    if (!key.includes("/impressions/")) continue;
    const file = await cleanRawFile([body], key);
    for await (const batch of file.batches)
      for (const o of batch)
        if (o.kind === "impressions") records.push(toImpressionRecord(o.row, key));
        else if (o.kind === "quarantine") quarantined++;
  }
  return { records, quarantined };
}

interface Session {
  report: OnlineDecisionReport;
  rounds: number;
  responses: number;
  clicksSent: number;
  records: ImpressionRecord[];
  mlflow: FakeMlflow;
}

/**
 * Serves `champion` and `challenger` to half the readers each, round after round (every reader asks
 * for a list and clicks as its preferences say), running the decision job after each round until it
 * decides. `onRound` may change the served versions between rounds (a swap under traffic).
 */
async function session(
  world: { readers: HiddenReader[]; pages: string[] },
  champion: Map<string, number>,
  challenger: Map<string, number>,
  seed: number,
  /** Swap the champion to a new version (same ranking) in the middle of round 2, under traffic. */
  swapChampion = false,
): Promise<Session> {
  const service = buildService({
    articles: world.pages.map((page, n) => article(n + 1, { page })),
    ranker: new FakeRanker("1", champion),
    challenger: { ranker: new FakeRanker("2", challenger), share: 0.5, mode: "split" },
  });
  // Every reader has read one article outside the list (so the model, not cold start, answers).
  const outside = world.pages[world.pages.length - 1] as string;
  for (const r of world.readers) service.users.items.set(r.userId, reader(r.userId, [outside]));
  const server = await startService(service);
  const mlflow = new FakeMlflow();
  mlflow.aliases.set(CHAMPION_ALIAS, "1");
  mlflow.aliases.set(CHALLENGER_ALIAS, "2");
  const random = mulberry32(seed);
  let responses = 0;
  let clicksSent = 0;
  try {
    for (let round = 1; round <= 40; round++) {
      await Promise.all(
        world.readers.map(async (r, index) => {
          if (swapChampion && round === 2 && index === Math.floor(world.readers.length / 2)) {
            service.model.set(new FakeRanker("3", champion).useCatalogue(() => service.data.catalogue()));
            mlflow.aliases.set(CHAMPION_ALIAS, "3");
          }
          const res = await post(`${server.url}/predict`, { userId: r.userId, k: K, exclude: [] });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { impressionId: string; items: { page: string }[] };
          responses++;
          const clicked = simulateClicks(
            r,
            body.items.map((i) => i.page),
            random,
          );
          if (clicked.length === 0) return;
          // Half the clients name the list; the others rely on attribution by the window.
          const named = random() < 0.5;
          const events = clicked.map((page) => ({
            type: "click",
            userId: r.userId,
            page,
            ...(named ? { impressionId: body.impressionId } : {}),
          }));
          const sent = await post(`${server.url}/events`, { events });
          expect(sent.status).toBe(200);
          clicksSent += events.length;
        }),
      );
      const { records, quarantined } = await ingestedLog(service);
      expect(quarantined).toBe(0);
      const log = {
        async *records() {
          yield* records;
        },
      };
      const logger = { info: () => undefined, warn: () => undefined };
      const report = await runOnlineDecision(
        { log, registry: mlflow, tracker: mlflow, logger },
        { modelName: "m", experimentName: "e" },
      );
      if (report.status === "decided" && report.decision.outcome !== "continue")
        return { report, rounds: round, responses, clicksSent, records, mlflow };
    }
    throw new Error("no decision after 40 rounds");
  } finally {
    await server.close();
  }
}

describe("the online loop, end to end (seeded)", () => {
  it("promotes a better challenger, refuses a worse one, and counts every impression and click", async () => {
    const { readers, files } = simulatedWorld();
    const all = await worldPages(files);
    const fans = (page: string) => readers.filter((r) => r.favours(page)).length;
    // The world holds at least 100 articles: 99 to rank, the last one read by every reader beforehand.
    const pool = all.slice(0, 99);
    const byFans = [...pool].sort((a, b) => fans(b) - fans(a) || (a < b ? -1 : 1));
    const scores = (order: readonly string[]) => new Map(order.map((page, i) => [page, order.length - i]));
    const good = scores(byFans);
    const bad = scores([...byFans].reverse());
    const world = { readers, pages: [...pool, all.at(-1) as string] };

    // The true CTR ratio for the simulated readers: stated, and at least the test's minimum effect.
    const ctr = (order: readonly string[]) =>
      readers.reduce((sum, r) => sum + listClickProbability(r, order.slice(0, K)), 0) / readers.length;
    const trueRatio = ctr(byFans) / ctr([...byFans].reverse());
    expect(trueRatio).toBeGreaterThanOrEqual(1.3);

    const better = await session(world, bad, good, 1, true);
    expect(better.report).toMatchObject({ status: "decided", champion: "3", championAfter: "2" });
    const served = better.records.filter((r) => r.eventType === "served" && r.arm === "champion");
    expect(new Set(served.map((r) => r.modelVersion))).toEqual(new Set(["1", "3"]));
    expect(better.mlflow.aliases.get(CHAMPION_ALIAS)).toBe("2");
    expect(better.mlflow.aliases.has(CHALLENGER_ALIAS)).toBe(false);
    expect(better.mlflow.versionTags.get("2")).toMatchObject({ "gplay.online.decision": "promote" });

    const worse = await session(world, good, bad, 2);
    expect(worse.report).toMatchObject({ status: "decided", championAfter: "1" });
    expect(worse.mlflow.aliases.get(CHAMPION_ALIAS)).toBe("1");
    expect(worse.mlflow.aliases.has(CHALLENGER_ALIAS)).toBe(false);
    expect(worse.mlflow.versionTags.get("2")).toMatchObject({ "gplay.online.decision": "stop" });

    // Nothing lost: one served row per response, one click row per click sent.
    for (const s of [better, worse]) {
      expect(s.records.filter((r) => r.eventType === "served")).toHaveLength(s.responses);
      expect(s.records.filter((r) => r.eventType === "click")).toHaveLength(s.clicksSent);
    }
    process.stdout.write(
      `online loop: true CTR ratio ${trueRatio.toFixed(3)}; better challenger promoted after ${better.rounds} rounds (${better.report.status === "decided" ? better.report.decision.figures.clicks : 0} clicks), worse stopped after ${worse.rounds} rounds\n`,
    );
  }, 300_000);
});
