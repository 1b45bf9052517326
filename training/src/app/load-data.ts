/**
 * Reads a snapshot's Parquet partitions through its manifest into the domain's TrainingData:
 * interactions merged per reader (deduplicated by (page, timestamp), sorted), the latest version of
 * each article with its content vector, and the validation accesses.
 */
import {
  engagementWeight,
  type Interaction,
  type SnapshotManifest,
  unpackContentVector,
} from "@gplay/common";
import type { Article, Reader, TrainingData } from "../domain/data.js";
import type { ArticleVectorSource, SnapshotReader } from "./ports.js";

export async function loadTrainingData(
  snapshots: SnapshotReader,
  vectors: ArticleVectorSource,
  manifest: SnapshotManifest,
): Promise<TrainingData> {
  const articles = new Map<string, Article & { modified: number }>();
  const readers = new Map<string, Reader>();
  const seen = new Map<string, Set<string>>();
  const validation = new Map<string, { page: string; timestamp: number }[]>();
  const ordered = [...manifest.partitions].sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const part of ordered) {
    if (part.dataset === "items") {
      for (const a of await snapshots.readPartition(manifest.bucket, "items", part.key)) {
        const known = articles.get(a.page);
        if (known === undefined || a.modified > known.modified)
          articles.set(a.page, {
            page: a.page,
            section: a.section,
            region: a.region,
            issued: a.issued,
            modified: a.modified,
          });
      }
    } else if (part.dataset === "interactions") {
      for (const r of await snapshots.readPartition(manifest.bucket, "interactions", part.key)) {
        let reader = readers.get(r.userId);
        if (reader === undefined) {
          reader = { userId: r.userId, userType: r.userType, log: [] };
          readers.set(r.userId, reader);
          seen.set(r.userId, new Set());
        }
        const key = `${r.timestamp}|${r.page}`;
        const keys = seen.get(r.userId) as Set<string>;
        if (keys.has(key)) continue;
        keys.add(key);
        if (r.userType === "Logged") reader.userType = "Logged";
        reader.log.push({
          page: r.page,
          timestamp: r.timestamp,
          clicks: r.clicks,
          timeOnPageMs: r.timeOnPageMs,
          scrollPercentage: r.scrollPercentage,
          pageVisits: r.pageVisits,
        });
      }
    } else {
      for (const v of await snapshots.readPartition(manifest.bucket, "validation", part.key)) {
        let list = validation.get(v.userId);
        if (list === undefined) {
          list = [];
          validation.set(v.userId, list);
        }
        list.push({ page: v.page, timestamp: v.timestamp });
      }
    }
  }
  const events: TrainingData["events"] = [];
  for (const reader of readers.values()) {
    reader.log.sort(byTime);
    for (const i of reader.log)
      events.push({
        userId: reader.userId,
        page: i.page,
        timestamp: i.timestamp,
        weight: engagementWeight(i),
      });
  }
  events.sort(
    (a, b) =>
      a.timestamp - b.timestamp ||
      (a.page < b.page ? -1 : a.page > b.page ? 1 : a.userId < b.userId ? -1 : 1),
  );
  const packed = await vectors.vectors([...articles.keys()]);
  for (const [page, bytes] of packed) {
    const a = articles.get(page);
    if (a !== undefined) a.vector = unpackContentVector(bytes);
  }
  return { asOf: manifest.asOf, readers, articles, validation, events };
}

function byTime(a: Interaction, b: Interaction): number {
  return a.timestamp - b.timestamp || (a.page < b.page ? -1 : a.page > b.page ? 1 : 0);
}
