/**
 * A simulated session of the online loop (issue #19), shared by the in-process test and the one on
 * the local stack: the api's real app serves two versions (champion and challenger, a sticky half of
 * the readers each) to the readers of a generated world, who click by the world's hidden preferences
 * (the click simulator, never a model); after each round the impression files the api wrote go to
 * `deliver` (the in-process test cleans them with the engine's code; the stack test puts them in S3
 * and ingests them), and `decide` runs the decision job, as the schedule would, until it decides.
 *
 * The two versions rank the same 99 articles by how many simulated readers favour each: "good" most
 * favoured first, "bad" least favoured first (`rankings`); their true CTR ratio for these readers is
 * computed from the click model.
 */
import {
  CHALLENGER_ALIAS,
  CHAMPION_ALIAS,
  type ImpressionRecord,
  mulberry32,
  toImpressionRecord,
} from "@gplay/common";
import { expect } from "@jest/globals";
import { article, FakeRanker, reader } from "../../../api/test/support/fixtures.js";
import { API_KEY, buildService, post, startService } from "../../../api/test/support/service.js";
import { cleanRawFile } from "../../../featstore-engine/src/domain/raw-file.js";
import {
  listClickProbability,
  simulateClicks,
} from "../../../featstore-engine/src/generator/click-simulator.js";
import { generateWorld, type HiddenReader } from "../../../featstore-engine/src/generator/worlds.js";
import type { OnlineDecisionReport } from "../../../training/src/app/decide-online.js";

export const K = 10;

export interface SimulatedWorld {
  readers: HiddenReader[];
  /** The 99 ranked articles, then one every reader read beforehand. */
  pages: string[];
  good: Map<string, number>;
  bad: Map<string, number>;
  /** True CTR@10 of the good ranking over the bad one, for these readers. */
  trueRatio: number;
}

/** Generates the world (seeded), its readers' hidden preferences and the two rankings. */
export async function simulatedWorld(): Promise<SimulatedWorld> {
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
  const all: string[] = [];
  for (const [path, text] of files) {
    if (!path.includes("itens")) continue;
    const file = await cleanRawFile([text], path);
    for await (const batch of file.batches)
      for (const o of batch) if (o.kind === "itens") all.push(o.row.page);
  }
  const fans = (page: string) => readers.filter((r) => r.favours(page)).length;
  // The world holds at least 100 articles: 99 to rank, the last one read by every reader beforehand.
  const byFans = all.slice(0, 99).sort((a, b) => fans(b) - fans(a) || (a < b ? -1 : 1));
  const scores = (order: readonly string[]) => new Map(order.map((page, i) => [page, order.length - i]));
  const ctr = (order: readonly string[]) =>
    readers.reduce((sum, r) => sum + listClickProbability(r, order.slice(0, K)), 0) / readers.length;
  const worst = [...byFans].reverse();
  return {
    readers,
    pages: [...byFans, all.at(-1) as string],
    good: scores(byFans),
    bad: scores(worst),
    trueRatio: ctr(byFans) / ctr(worst),
  };
}

/** The registry as the session needs it: the two aliases. */
export interface SessionRegistry {
  setAlias(name: string, alias: string, version: string): Promise<void>;
}

export interface SessionPorts {
  registry: SessionRegistry;
  modelName: string;
  /** Receives the impression files written since the last call (key → CSV). */
  deliver(files: Map<string, string>): Promise<void>;
  /** Runs the decision job once. */
  decide(): Promise<OnlineDecisionReport>;
}

export interface SessionResult {
  report: OnlineDecisionReport;
  rounds: number;
  responses: number;
  clicksSent: number;
}

/**
 * Serves `champion` (version 1) and `challenger` (version 2) to half the readers each, round after
 * round, every reader asking for a list and clicking as its preferences say (half of the clients
 * naming the list, the others relying on the window), until the decision job decides. With
 * `swapChampion`, a new champion version (3, same ranking) replaces version 1 in the middle of round
 * 2, under traffic, and the registry's `@champion` follows.
 */
export async function runSession(
  world: SimulatedWorld,
  champion: Map<string, number>,
  challenger: Map<string, number>,
  seed: number,
  ports: SessionPorts,
  swapChampion = false,
): Promise<SessionResult> {
  const service = buildService({
    articles: world.pages.map((page, n) => article(n + 1, { page })),
    ranker: new FakeRanker("1", champion),
    challenger: { ranker: new FakeRanker("2", challenger), share: 0.5, mode: "split" },
    // The session is a load of 240 readers per round, rounds back to back: on a fast machine it
    // outruns the test client's 1,000/s quota, and rate limiting is not what it tests.
    http: { clients: [{ name: "web", key: API_KEY, quota: { ratePerSecond: 1e6, burst: 1e6 } }] },
  });
  const outside = world.pages.at(-1) as string;
  for (const r of world.readers) service.users.items.set(r.userId, reader(r.userId, [outside]));
  const server = await startService(service);
  await ports.registry.setAlias(ports.modelName, CHAMPION_ALIAS, "1");
  await ports.registry.setAlias(ports.modelName, CHALLENGER_ALIAS, "2");
  const random = mulberry32(seed);
  const delivered = new Set<string>();
  let responses = 0;
  let clicksSent = 0;
  try {
    for (let round = 1; round <= 40; round++) {
      await Promise.all(
        world.readers.map(async (r, index) => {
          if (swapChampion && round === 2 && index === Math.floor(world.readers.length / 2)) {
            service.model.set(new FakeRanker("3", champion).useCatalogue(() => service.data.catalogue()));
            await ports.registry.setAlias(ports.modelName, CHAMPION_ALIAS, "3");
          }
          const res = await post(`${server.url}/predict`, { userId: r.userId, k: K });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { impressionId: string; items: { page: string }[] };
          responses++;
          const clicked = simulateClicks(
            r,
            body.items.map((i) => i.page),
            random,
          );
          if (clicked.length === 0) return;
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
      await service.impressions.flush();
      const fresh = new Map(
        [...service.sink.objects].filter(([key]) => key.includes("/impressions/") && !delivered.has(key)),
      );
      for (const key of fresh.keys()) delivered.add(key);
      await ports.deliver(fresh);
      const report = await ports.decide();
      if (report.status === "decided" && report.decision.outcome !== "continue")
        return { report, rounds: round, responses, clicksSent };
    }
    throw new Error("no decision after 40 rounds");
  } finally {
    await server.close();
  }
}

/** Impression files cleaned with the featstore-engine's own code, as processed records. */
export async function cleanedRecords(
  files: Map<string, string>,
): Promise<{ records: ImpressionRecord[]; quarantined: number }> {
  const records: ImpressionRecord[] = [];
  let quarantined = 0;
  for (const [key, body] of files) {
    const file = await cleanRawFile([body], key);
    for await (const batch of file.batches)
      for (const o of batch)
        if (o.kind === "impressions") records.push(toImpressionRecord(o.row, key));
        else if (o.kind === "quarantine") quarantined++;
  }
  return { records, quarantined };
}
