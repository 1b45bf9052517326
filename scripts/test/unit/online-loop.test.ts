/**
 * The online loop end to end, in one process and seeded (issue #19; the session:
 * test/support/online-session.ts): the api's real app, the featstore-engine's cleaning of the
 * impression files, training's decision job; registry, tracker and stores are in-memory fakes, so it
 * runs anywhere (test/integration/online-loop.test.ts runs the same session on the local stack).
 * The test: α = 0.05, power 0.8 at a ratio of 1.3, maximum sample 1,500 clicks
 * (training/src/domain/online-decision.ts).
 */
import { CHALLENGER_ALIAS, CHAMPION_ALIAS, type ImpressionRecord } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { runOnlineDecision } from "../../../training/src/app/decide-online.js";
import type { MetricPoint, OnlineRegistry } from "../../../training/src/app/ports.js";
import {
  cleanedRecords,
  runSession,
  type SimulatedWorld,
  simulatedWorld,
} from "../support/online-session.js";

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

/** One session against fakes: every impression file is cleaned by the engine's code and kept. */
async function session(
  world: SimulatedWorld,
  champion: Map<string, number>,
  challenger: Map<string, number>,
  seed: number,
  swap = false,
) {
  const mlflow = new FakeMlflow();
  const records: ImpressionRecord[] = [];
  const logger = { info: () => undefined, warn: () => undefined };
  const result = await runSession(
    world,
    champion,
    challenger,
    seed,
    {
      registry: mlflow,
      modelName: "m",
      deliver: async (files) => {
        const cleaned = await cleanedRecords(files);
        expect(cleaned.quarantined).toBe(0);
        records.push(...cleaned.records);
      },
      decide: () =>
        runOnlineDecision(
          {
            log: {
              async *records() {
                yield* records;
              },
            },
            registry: mlflow,
            tracker: mlflow,
            logger,
          },
          { modelName: "m", experimentName: "e" },
        ),
    },
    swap,
  );
  return { ...result, records, mlflow };
}

describe("the online loop, end to end (seeded, in one process)", () => {
  it("promotes a better challenger, refuses a worse one, and counts every impression and click", async () => {
    const world = await simulatedWorld();
    // The true CTR ratio for the simulated readers: stated, and at least the test's minimum effect.
    expect(world.trueRatio).toBeGreaterThanOrEqual(1.3);

    const better = await session(world, world.bad, world.good, 1, true);
    expect(better.report).toMatchObject({ status: "decided", champion: "3", championAfter: "2" });
    expect(better.mlflow.aliases.get(CHAMPION_ALIAS)).toBe("2");
    expect(better.mlflow.production).toBe("2");
    expect(better.mlflow.aliases.has(CHALLENGER_ALIAS)).toBe(false);
    expect(better.mlflow.versionTags.get("2")).toMatchObject({ "gplay.online.decision": "promote" });
    const served = better.records.filter((r) => r.eventType === "served" && r.arm === "champion");
    expect(new Set(served.map((r) => r.modelVersion))).toEqual(new Set(["1", "3"]));

    const worse = await session(world, world.good, world.bad, 2);
    expect(worse.report).toMatchObject({ status: "decided", championAfter: "1" });
    expect(worse.mlflow.aliases.get(CHAMPION_ALIAS)).toBe("1");
    expect(worse.mlflow.aliases.has(CHALLENGER_ALIAS)).toBe(false);
    expect(worse.mlflow.versionTags.get("2")).toMatchObject({ "gplay.online.decision": "stop" });

    // Nothing lost, the swap included: one served row per response, one click row per click sent.
    for (const s of [better, worse]) {
      expect(s.records.filter((r) => r.eventType === "served")).toHaveLength(s.responses);
      expect(s.records.filter((r) => r.eventType === "click")).toHaveLength(s.clicksSent);
    }
    process.stdout.write(
      `online loop: true CTR ratio ${world.trueRatio.toFixed(3)}; better challenger promoted after ${better.rounds} rounds, worse stopped after ${worse.rounds} rounds\n`,
    );
  }, 300_000);
});
