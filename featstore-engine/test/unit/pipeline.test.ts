import { coldstartListId, DYNAMODB_ITEM_LIMIT_BYTES, type Interaction, type ItensRow } from "@gplay/common";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { toArticleItems } from "../../src/domain/article.js";
import type { RowOutcome, UserType } from "../../src/domain/clean.js";
import {
  buildUserItem,
  dynamoItemSizeBytes,
  excludedPages,
  mergeUserItem,
  type UserItemDraft,
} from "../../src/domain/merge.js";
import { cleanRawFile } from "../../src/domain/raw-file.js";
import { CovisitationAccumulator, PopularityAccumulator } from "../../src/domain/snapshot.js";
import { type ExpectedAggregates, MAX_HISTORY_SIZE } from "../../src/generator/generate.js";
import { generateInMemory } from "./support.js";

const NOW = "2022-08-20T00:00:00.000Z";

async function outcomes(text: string, key: string): Promise<RowOutcome[]> {
  const file = await cleanRawFile([text], key);
  const out: RowOutcome[] = [];
  for await (const batch of file.batches) out.push(...batch);
  return out;
}

/** Per reader: interactions of one treino file. */
function readersOf(rows: RowOutcome[]): Map<string, { userType: UserType; interactions: Interaction[] }> {
  const map = new Map<string, { userType: UserType; interactions: Interaction[] }>();
  for (const o of rows) {
    if (o.kind !== "treino") continue;
    const entry = map.get(o.user.userId) ?? { userType: o.user.userType, interactions: [] };
    entry.interactions.push(...o.interactions);
    map.set(o.user.userId, entry);
  }
  return map;
}

/** Applies treino files in the given order, the way ingestion merges into the users table. */
function ingest(files: Map<string, RowOutcome[]>, order: string[]): Map<string, UserItemDraft> {
  const items = new Map<string, UserItemDraft>();
  for (const path of order)
    for (const [userId, r] of readersOf(files.get(path) ?? [])) {
      const update = { userId, userType: r.userType, interactions: r.interactions };
      const current = items.get(userId);
      items.set(
        userId,
        current === undefined ? buildUserItem(update, NOW) : mergeUserItem(current, update, NOW),
      );
    }
  return items;
}

describe("generated data through the pure pipeline", () => {
  let expected: ExpectedAggregates;
  let parsed: Map<string, RowOutcome[]>;
  let treinoPaths: string[];

  beforeAll(async () => {
    const generated = generateInMemory({
      users: 150,
      seed: "pipeline",
      days: 2,
      items: 12_000,
      heavyReaders: 1,
    });
    expected = generated.expected;
    parsed = new Map();
    for (const [path, text] of generated.files) parsed.set(path, await outcomes(text, path));
    treinoPaths = [...parsed.keys()].filter((p) => p.startsWith("treino/")).sort();
  }, 60_000);

  it("fits the heaviest reader (7,004 interactions) in one item and excludes every article they read", () => {
    expect(expected.heaviestUser.interactions).toBe(MAX_HISTORY_SIZE);
    const items = ingest(parsed, treinoPaths);
    const heavy = items.get(expected.heaviestUser.userId) as UserItemDraft;
    expect(heavy.interactionCount).toBe(7_004);
    expect(dynamoItemSizeBytes({ ...heavy, version: 1, expiresAt: 1_800_000_000 })).toBeLessThan(
      DYNAMODB_ITEM_LIMIT_BYTES,
    );
    const excluded = excludedPages(heavy);
    const read = [...parsed.values()].flatMap((rows) =>
      rows.flatMap((o) =>
        o.kind === "treino" && o.user.userId === expected.heaviestUser.userId ? o.interactions : [],
      ),
    );
    expect(read).toHaveLength(7_004);
    expect(read.filter((i) => !excluded(i.page))).toEqual([]);
  });

  it("builds the same user items whichever day file is ingested first, with the expected counts", () => {
    const forward = ingest(parsed, treinoPaths);
    const backward = ingest(parsed, [...treinoPaths].reverse());
    expect(backward).toEqual(forward);
    const counts = Object.fromEntries([...forward].map(([id, item]) => [id, item.interactionCount]));
    expect(counts).toEqual(expected.perUser);
  });

  it("builds cold-start lists as of the newest interaction, with categories of the ingested articles", () => {
    const rows = [...parsed.values()].flatMap((r) => r.flatMap((o) => (o.kind === "itens" ? [o.row] : [])));
    const { items } = toArticleItems(rows as ItensRow[], { updatedAt: NOW });
    const categories = new Map(items.map((i) => [i.page, { section: i.section, region: i.region }]));
    const popularity = new PopularityAccumulator();
    const covisitation = new CovisitationAccumulator();
    for (const path of treinoPaths)
      for (const r of readersOf(parsed.get(path) ?? []).values()) {
        popularity.addAll(r.interactions);
        covisitation.addReader(r.interactions);
      }
    expect(popularity.asOf).toBe(expected.totals.newestInteraction);
    const lists = popularity.build((p) => categories.get(p));
    const global24 = lists.find((l) => l.listId === coldstartListId.popular("global", 24));
    expect(global24?.entries.length).toBeGreaterThan(0);
    expect(lists.some((l) => l.listId.startsWith("popular#region:"))).toBe(true);
    expect(lists.some((l) => l.listId.startsWith("popular#section:"))).toBe(true);
    const neighbours = covisitation.build({ topN: 10 });
    expect(neighbours.length).toBeGreaterThan(0);
    expect(neighbours.every((l) => l.entries.length <= 10 && l.entries.every((e) => e.score >= 1))).toBe(
      true,
    );
  });
});
