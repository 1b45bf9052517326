/**
 * The demo's simulated session (scripts/src/demo/online-session.ts) against the api's real app in
 * process (as the online-loop test serves it: two versions, half the readers each): readers of a
 * generated world click by its hidden preferences over HTTP, and the CTR lines the demo prints are
 * checked against the impression log the api filed, cleaned by the featstore-engine's own code.
 */
import { describe, expect, it } from "@jest/globals";
import { article, FakeRanker, reader } from "../../../api/test/support/fixtures.js";
import { API_KEY, buildService, post, startService } from "../../../api/test/support/service.js";
import {
  DEFAULT_CLICK_MODEL,
  simulateClicks,
} from "../../../featstore-engine/src/generator/click-simulator.js";
import {
  awaitSessionFigures,
  type ClickingReader,
  formatSessionFigures,
  impressionRecords,
  runOnlineSession,
} from "../../src/demo/online-session.js";
import { cleanedRecords, K, simulatedWorld } from "../support/online-session.js";

describe("the demo's simulated session", () => {
  it("prints CTR per version and arm as the impression log the api filed says", async () => {
    const world = await simulatedWorld();
    const service = buildService({
      articles: world.pages.map((page, n) => article(n + 1, { page })),
      ranker: new FakeRanker("1", world.good),
      challenger: { ranker: new FakeRanker("2", world.bad), share: 0.5, mode: "split" },
      // A tight rate limit: the session waits out the api's 429s (Retry-After) instead of failing.
      http: { clients: [{ name: "web", key: API_KEY, quota: { ratePerSecond: 150, burst: 30 } }] },
    });
    const outside = world.pages.at(-1) as string;
    for (const r of world.readers) service.users.items.set(r.userId, reader(r.userId, [outside]));
    const server = await startService(service);
    const impressionFiles = () =>
      new Map([...service.sink.objects].filter(([key]) => key.includes("/impressions/")));
    try {
      // A keener click model than the default, so that some lists earn several clicks (CTR counts a
      // list once, the clicks column each click).
      const keen = { ...DEFAULT_CLICK_MODEL, base: 0.02, favouredLift: 0.6, positionDecay: 0.3 };
      const readers: ClickingReader[] = world.readers.map((hidden) => ({
        userId: hidden.userId,
        clicks: (pages, random) => simulateClicks(hidden, pages, random, keen),
      }));
      // Someone else's list in the log (served before the session): not the session's figures.
      const other = (await (
        await post(`${server.url}/predict`, { userId: world.readers[0]?.userId, k: K })
      ).json()) as { impressionId: string };
      const traffic = await runOnlineSession({
        url: server.url,
        apiKey: API_KEY,
        readers,
        lists: 300,
        k: K,
        seed: 7,
      });
      expect(traffic.lists).toBe(300);
      expect(traffic.clicks).toBeGreaterThan(0);
      // Before the api flushes, the log lacks the session: waiting gives up with what is missing.
      await expect(awaitSessionFigures(async () => impressionFiles(), traffic, 50, 10)).rejects.toThrow(
        /holds 0 of 300 lists/,
      );

      const figures = await awaitSessionFigures(
        async () => {
          await service.impressions.flush();
          return impressionFiles();
        },
        traffic,
        10_000,
      );

      // The log, read independently (the engine's cleaning): one served row per list, one click row per click.
      const { records, quarantined } = await cleanedRecords(impressionFiles());
      expect(quarantined).toBe(0);
      expect(impressionRecords(impressionFiles()).refused).toBe(0);
      expect(records.filter((r) => r.eventType === "served")).toHaveLength(traffic.lists + 1);
      const served = records.filter((r) => r.eventType === "served" && r.impressionId !== other.impressionId);
      const clicks = records.filter((r) => r.eventType === "click");
      expect(served).toHaveLength(traffic.lists);
      expect(clicks).toHaveLength(traffic.clicks);
      expect(figures.unattributedClicks).toBe(0);

      // Per version and arm: the lists, the lists clicked and the clicks the log holds.
      const expected = [...new Set(served.map((r) => `${r.modelVersion}|${r.arm}|${r.strategy}`))]
        .sort()
        .map((key) => {
          const [modelVersion, arm, strategy] = key.split("|") as [string, string, string];
          const ids = new Set(
            served
              .filter((r) => r.modelVersion === modelVersion && r.arm === arm && r.strategy === strategy)
              .map((r) => r.impressionId),
          );
          const mine = clicks.filter((c) => ids.has(c.impressionId));
          return {
            modelVersion,
            arm,
            strategy,
            impressions: ids.size,
            clickedImpressions: new Set(mine.map((c) => c.impressionId)).size,
            clicks: mine.length,
          };
        });
      expect(expected.map((e) => e.arm).sort()).toEqual(["challenger", "champion"]);
      expect(expected.some((e) => e.clicks > e.clickedImpressions)).toBe(true);
      expect(figures.arms).toEqual(expected.map((e) => expect.objectContaining(e)));

      const lines = formatSessionFigures(figures, K);
      expect(lines).toEqual(
        expected.map(
          (e) =>
            `online: version ${e.modelVersion} (${e.arm}, ${e.strategy}): ${e.impressions} lists, ${e.clickedImpressions} clicked (${e.clicks} clicks), CTR@${K} ${((100 * e.clickedImpressions) / e.impressions).toFixed(1)} %`,
        ),
      );
      // The world's readers favour what the good ranking (version 1) puts first.
      const ctr = (version: string) => figures.arms.find((a) => a.modelVersion === version)?.ctr ?? 0;
      expect(ctr("1")).toBeGreaterThan(ctr("2"));
      process.stdout.write(`${lines.join("\n")}\n`);
    } finally {
      await server.close();
    }
  }, 120_000);
});
