import { type Interaction, mergeInteractions, RAW_HEADERS, type UserItem } from "@gplay/common";

/** One click as the API received it, with the timestamp fixed at receipt (so the log and the file agree). */
export interface ClickRecord {
  userId: string;
  userType: UserItem["userType"];
  page: string;
  timestamp: number;
  timeOnPageMs: number;
  scrollPercentage: number;
}

/** A G1 list field: values joined by ", ", double-quoted when there are several. */
function listField(values: readonly (string | number)[]): string {
  const joined = values.map(String).join(", ");
  return values.length > 1 ? `"${joined}"` : joined;
}

function scroll(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Converts a click to the interaction it adds to a reader's log (one click, one visit). */
export function clickInteraction(click: ClickRecord): Interaction {
  return {
    page: click.page,
    timestamp: click.timestamp,
    clicks: 1,
    timeOnPageMs: click.timeOnPageMs,
    scrollPercentage: scroll(click.scrollPercentage),
    pageVisits: 1,
  };
}

/**
 * Renders clicks as a treino-format CSV file (header `RAW_HEADERS.treino`, LF): one row per reader,
 * its clicks merged like the ingestion merges them and ordered by first access. Returns undefined
 * when there is nothing to write.
 */
export function treinoCsv(clicks: readonly ClickRecord[]): string | undefined {
  if (clicks.length === 0) return undefined;
  const byUser = new Map<string, { userType: ClickRecord["userType"]; interactions: Interaction[] }>();
  for (const click of clicks) {
    const entry = byUser.get(click.userId) ?? { userType: click.userType, interactions: [] };
    entry.userType = click.userType;
    entry.interactions.push(clickInteraction(click));
    byUser.set(click.userId, entry);
  }
  const lines = [RAW_HEADERS.treino.join(",")];
  for (const [userId, { userType, interactions }] of byUser) {
    const merged = mergeInteractions(interactions);
    const timestamps = merged.map((i) => i.timestamp);
    lines.push(
      [
        userId,
        userType,
        String(merged.length),
        listField(merged.map((i) => i.page)),
        listField(timestamps),
        listField(merged.map((i) => i.clicks)),
        listField(merged.map((i) => i.timeOnPageMs)),
        listField(merged.map((i) => i.scrollPercentage)),
        listField(merged.map((i) => i.pageVisits)),
        listField(timestamps),
      ].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}
