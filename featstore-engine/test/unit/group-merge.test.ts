import type { Interaction, UserItem } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import type { IngestBuilders } from "../../src/app/ingest-file.js";
import { groupMerge, type ReaderPart } from "../../src/app/ingest-files.js";
import { mergeUserItem } from "../../src/domain/merge.js";
import { Rng } from "../../src/generator/rng.js";
import { interactions } from "./support.js";

const USER = new Rng("group-merge").hex(64);
/** A small log cap, so a few rows reach it. */
const CAP = 16;
const builders: Pick<IngestBuilders, "userMerge"> = {
  userMerge: (userId, userType, rows, now) => (existing) =>
    mergeUserItem(existing, { userId, userType, interactions: rows }, now.toISOString(), CAP),
};

/** The per-object path: each object's merge written in turn. */
function inTurn(existing: UserItem | undefined, parts: readonly ReaderPart[]): UserItem | undefined {
  let item = existing;
  for (const p of parts)
    item = {
      ...mergeUserItem(
        item,
        { userId: USER, userType: p.userType, interactions: p.interactions },
        p.now.toISOString(),
        CAP,
      ),
      version: (item?.version ?? 0) + 1,
    };
  return item;
}
const withoutVersion = (item: UserItem | undefined) => {
  const { version: _v, ...rest } = item as UserItem;
  return rest;
};
const part = (
  rows: Interaction[],
  day: number,
  userType: ReaderPart["userType"] = "Non-Logged",
): ReaderPart => ({
  userType,
  interactions: rows,
  now: new Date(Date.UTC(2022, 6, day)),
});

describe("a reader's merge over a group of objects", () => {
  const first = interactions(4, "first", 1_656_633_600_000);
  const second = interactions(3, "second", 1_656_720_000_000);
  // The same rows again (a file ingested twice in one group) and one the first object holds too.
  const third = [...interactions(2, "third", 1_656_806_400_000), first[0] as Interaction];
  const parts = [part(first, 2), part(second, 3, "Logged"), part(third, 4)];

  it("ends in the item the objects' merges give one after the other, for a new reader", () => {
    expect(groupMerge(builders, USER, parts, CAP)(undefined)).toEqual(
      withoutVersion(inTurn(undefined, parts)),
    );
  });

  it("ends in that item for a stored reader, below the cap and past it (evictions)", () => {
    for (const stored of [3, 8, 12]) {
      const old = interactions(stored, `stored${stored}`, 1_656_000_000_000);
      const existing = inTurn(undefined, [part(old, 1)]);
      // Past the cap, a row older than the whole log whose page was evicted counts as evicted before:
      // that depends on the order of the merges, so the group must give the order's answer.
      const late = part([{ ...(old[0] as Interaction), timestamp: 1_655_000_000_000 }], 5);
      const all = [...parts, late];
      const merged = groupMerge(builders, USER, all, CAP)(existing);
      expect(merged).toEqual(withoutVersion(inTurn(existing, all)));
      if (stored === 12) expect(merged.evictedCount).toBeGreaterThan(0);
    }
  });

  it("re-applied to its own result changes nothing (a re-run of the group)", () => {
    const once = { ...groupMerge(builders, USER, parts, CAP)(undefined), version: 1 };
    const twice = groupMerge(builders, USER, parts, CAP)(once);
    expect({ ...twice, updatedAt: once.updatedAt }).toEqual(withoutVersion(once));
  });
});
