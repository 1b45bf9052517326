import { describe, expect, it } from "@jest/globals";
import { SwitchableModelProvider } from "../../../src/app/model.js";
import { Readiness } from "../../../src/app/readiness.js";
import { ServingData } from "../../../src/app/serving-data.js";
import {
  article,
  FakeArticleSource,
  FakeColdstartSource,
  FakeRanker,
  ManualClock,
} from "../../support/fixtures.js";

function setup(requireModel: boolean) {
  const clock = new ManualClock();
  const articles = new FakeArticleSource([article(1)]);
  const data = new ServingData(
    articles,
    new FakeColdstartSource(),
    { freshnessHours: 48, coVisitCacheTtlMs: 1, coVisitCacheMaxEntries: 1 },
    clock,
  );
  const model = new SwitchableModelProvider("no champion yet");
  const readiness = new Readiness({ model, data, clock }, { requireModel, maxDataAgeMs: 60_000 });
  return { clock, articles, data, model, readiness };
}

describe("Readiness", () => {
  it("is not ready before the feature store was loaded, and says why", () => {
    const { readiness } = setup(false);
    const check = readiness.check();
    expect(check.ready).toBe(false);
    expect(check.checks.featureStore.detail).toMatch(/not loaded/);
  });

  it("requires a model when configured to, naming the reason there is none", async () => {
    const { readiness, data, model } = setup(true);
    await data.refresh();
    expect(readiness.check()).toMatchObject({
      ready: false,
      modelVersion: null,
      checks: { model: { ok: false, detail: "no model: no champion yet" } },
    });
    model.set(new FakeRanker("4"));
    expect(readiness.check()).toMatchObject({ ready: true, modelVersion: "4" });
  });

  it("fails when the feature store has not answered for too long", async () => {
    const { readiness, data, clock, articles } = setup(false);
    await data.refresh();
    expect(readiness.check().ready).toBe(true);
    articles.fail = new Error("unreachable");
    clock.advance(61_000);
    await data.refresh().catch(() => undefined);
    expect(readiness.check()).toMatchObject({ ready: false, checks: { featureStore: { ok: false } } });
  });

  it("fails once draining starts", async () => {
    const { readiness, data } = setup(false);
    await data.refresh();
    readiness.startDraining();
    expect(readiness.check()).toMatchObject({ ready: false, checks: { draining: { ok: false } } });
  });
});
