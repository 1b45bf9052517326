import { coldstartListId } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { ServingData } from "../../../src/app/serving-data.js";
import {
  AS_OF,
  article,
  coldstartRow,
  FakeArticleSource,
  FakeColdstartSource,
  ManualClock,
  pageId,
  popularRow,
} from "../../support/fixtures.js";

const p = pageId;
const options = { freshnessHours: 48, coVisitCacheTtlMs: 60_000, coVisitCacheMaxEntries: 100 };

describe("ServingData", () => {
  it("loads articles and the popularity lists of every section and region in the catalog", async () => {
    const source = new FakeColdstartSource([popularRow("global", [p(1)]), popularRow("section:rj", [p(2)])]);
    const data = new ServingData(
      new FakeArticleSource([article(1), article(2, { section: "rj", region: "rio" })]),
      source,
      options,
      new ManualClock(),
    );
    const summary = await data.refresh();
    expect(summary).toEqual({ articles: 2, lists: 2, snapshotId: "snap-1" });
    const requested = source.requested[0] ?? [];
    for (const scope of ["global", "section:sp", "section:rj", "region:sao-paulo", "region:rio"] as const)
      for (const w of [1, 6, 24] as const) expect(requested).toContain(coldstartListId.popular(scope, w));
    expect(data.popular("section:rj").map((e) => e.page)).toEqual([p(2)]);
    expect(data.referenceMs()).toBe(AS_OF);
  });

  it("merges a scope's windows shortest first without repeating a page", async () => {
    const source = new FakeColdstartSource([
      coldstartRow(coldstartListId.popular("global", 1), [p(3)]),
      coldstartRow(coldstartListId.popular("global", 24), [p(1), p(3), p(2)]),
    ]);
    const data = new ServingData(
      new FakeArticleSource([article(1), article(2), article(3)]),
      source,
      options,
      new ManualClock(),
    );
    await data.refresh();
    expect(data.popular("global").map((e) => e.page)).toEqual([p(3), p(1), p(2)]);
  });

  it("serves a new snapshot's articles and lists after a refresh, and forgets the old co-visitation rows", async () => {
    const articles = new FakeArticleSource([article(1)]);
    const source = new FakeColdstartSource([
      popularRow("global", [p(1)]),
      coldstartRow(coldstartListId.covisit(p(1)), [p(5)]),
    ]);
    const data = new ServingData(articles, source, options, new ManualClock());
    await data.refresh();
    expect((await data.coVisit([p(1)])).get(p(1))?.map((e) => e.page)).toEqual([p(5)]);

    articles.articles = [article(1), article(2)];
    source.put(
      popularRow("global", [p(2), p(1)], "snap-2"),
      coldstartRow(coldstartListId.covisit(p(1)), [p(6)], "snap-2"),
    );
    await data.refresh();
    expect(data.snapshotId).toBe("snap-2");
    expect(data.article(p(2))?.title).toBe("News 2");
    expect(data.popular("global").map((e) => e.page)).toEqual([p(2), p(1)]);
    expect((await data.coVisit([p(1)])).get(p(1))?.map((e) => e.page)).toEqual([p(6)]);
  });

  it("reads co-visitation rows once and then from the cache", async () => {
    const source = new FakeColdstartSource([coldstartRow(coldstartListId.covisit(p(1)), [p(5)])]);
    const data = new ServingData(new FakeArticleSource([article(1)]), source, options, new ManualClock());
    await data.refresh();
    const before = source.requested.length;
    await data.coVisit([p(1), p(2)]);
    await data.coVisit([p(1), p(2)]);
    expect(source.requested.length - before).toBe(1);
  });

  it("keeps serving the previous data when a refresh fails, and reports the failure", async () => {
    const articles = new FakeArticleSource([article(1)]);
    const data = new ServingData(articles, new FakeColdstartSource(), options, new ManualClock());
    await data.refresh();
    articles.fail = new Error("table gone");
    await expect(data.refresh()).rejects.toMatchObject({ code: "INTERNAL" });
    expect(data.article(p(1))).toBeDefined();
    expect(data.status.lastError).toBe("INTERNAL");
  });

  it("counts articles as fresh relative to the snapshot time, not the wall clock", async () => {
    const data = new ServingData(
      new FakeArticleSource([article(1), article(2, { issued: AS_OF - 72 * 3_600_000 })]),
      new FakeColdstartSource([popularRow("global", [p(1)])]),
      options,
      new ManualClock(AS_OF + 365 * 86_400_000),
    );
    await data.refresh();
    expect(data.isFresh(p(1))).toBe(true);
    expect(data.isFresh(p(2))).toBe(false);
    expect(data.freshInSection("sp").map((a) => a.page)).toEqual([p(1)]);
  });
});
