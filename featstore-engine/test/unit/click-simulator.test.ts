import { mulberry32 } from "@gplay/common";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { cleanRawFile } from "../../src/domain/raw-file.js";
import {
  clickProbability,
  listClickProbability,
  simulateClicks,
} from "../../src/generator/click-simulator.js";
import { generateWorld, type HiddenReader } from "../../src/generator/worlds.js";
import { memorySink } from "./support.js";

let readers: HiddenReader[];
let pages: string[];

/** The reader's list of `k` from `pool`: the pages it favours first (`good`) or last (`bad`). */
function ranked(reader: HiddenReader, pool: readonly string[], k: number, good: boolean): string[] {
  const liked = pool.filter((p) => reader.favours(p));
  const other = pool.filter((p) => !reader.favours(p));
  return (good ? [...liked, ...other] : [...other, ...liked]).slice(0, k);
}

beforeAll(async () => {
  const { sink, files } = memorySink();
  readers = [];
  generateWorld({ users: 200, days: 2, seed: "clicks", onReader: (r) => readers.push(r) }, sink);
  pages = [];
  for (const [path, text] of files) {
    if (!path.includes("itens")) continue;
    const file = await cleanRawFile([text], path);
    for await (const batch of file.batches)
      for (const o of batch) if (o.kind === "itens") pages.push(o.row.page);
  }
});

describe("the click simulator", () => {
  it("reads the world's hidden preferences without changing the world's files", () => {
    const plain = memorySink();
    const observed = memorySink();
    generateWorld({ users: 50, days: 1, seed: "same" }, plain.sink);
    generateWorld({ users: 50, days: 1, seed: "same", onReader: () => undefined }, observed.sink);
    expect([...observed.files.entries()]).toEqual([...plain.files.entries()]);
    expect(readers).toHaveLength(200);
    // Every reader has a region or sections; nearly all of them hold articles in a 2-day world.
    const withFavourites = readers.filter((r) => pages.some((p) => r.favours(p))).length;
    expect(withFavourites / readers.length).toBeGreaterThan(0.9);
  });

  it("gives lists of what readers favour a true CTR at least 1.3 times that of lists they do not", () => {
    const random = mulberry32(11);
    let good = 0;
    let bad = 0;
    for (const reader of readers) {
      const pool = Array.from({ length: 60 }, () => pages[Math.floor(random() * pages.length)] as string);
      good += listClickProbability(reader, ranked(reader, pool, 10, true));
      bad += listClickProbability(reader, ranked(reader, pool, 10, false));
    }
    expect(good / bad).toBeGreaterThanOrEqual(1.3);
  });

  it("clicks at the true rates, favouring the top of the list", () => {
    const reader = readers.find((r) => r.affinity > 0.5) as HiddenReader;
    const list = ranked(reader, pages.slice(0, 80), 10, true);
    const random = mulberry32(5);
    const trials = 20_000;
    let clickedLists = 0;
    const perPosition = new Array<number>(list.length).fill(0);
    for (let t = 0; t < trials; t++) {
      const clicks = simulateClicks(reader, list, random);
      if (clicks.length > 0) clickedLists++;
      for (const page of clicks)
        perPosition[list.indexOf(page)] = (perPosition[list.indexOf(page)] as number) + 1;
    }
    const p = listClickProbability(reader, list);
    expect(Math.abs(clickedLists / trials - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / trials));
    expect(clickProbability(reader, list[0] as string, 0)).toBeGreaterThan(
      clickProbability(reader, list[0] as string, 5),
    );
    expect(perPosition[0]).toBeGreaterThan(perPosition[9] as number);
  });
});
