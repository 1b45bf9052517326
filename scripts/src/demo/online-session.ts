/**
 * The demo's short simulated session of the online loop (issue #19, docs/online.md): readers of the
 * demo's generated world ask the running api for lists over HTTP (`/predict`) and click them as the
 * world's hidden preferences say (the click simulator, never the model), each click naming its list's
 * `impressionId` (`/events`). CTR per version, arm and strategy then comes from the impression log the
 * api filed, joined by common's one attribution rule (`joinImpressionLog`): the figures are what the
 * decision job would read, not what the session counted.
 */
import {
  type ArmFigures,
  type ImpressionRecord,
  joinImpressionLog,
  mulberry32,
  parseImpressionLogFields,
  toImpressionRecord,
} from "@gplay/common";

/** A simulated reader: who it is, and which of a shown list's pages it clicks. */
export interface ClickingReader {
  userId: string;
  clicks(pages: readonly string[], random: () => number): string[];
}

export interface SessionOptions {
  url: string;
  apiKey: string;
  readers: readonly ClickingReader[];
  /** Lists requested (readers drawn at random, with repeats). */
  lists: number;
  k: number;
  seed: number;
  /** Requests in flight at once. */
  concurrency?: number;
}

/** What the session sent: the lists it was served and the clicks it sent. */
export interface SessionTraffic {
  lists: number;
  clicks: number;
  impressionIds: ReadonlySet<string>;
}

/** Throttled requests (429: the key's rate limit) are retried after the api's Retry-After, this many times. */
const THROTTLED_RETRIES = 50;

async function call(url: string, apiKey: string, body: unknown): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": apiKey },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 429 && attempt < THROTTLED_RETRIES) {
      const seconds = Number(response.headers.get("retry-after"));
      await new Promise((resolve) => setTimeout(resolve, seconds > 0 ? seconds * 1000 : 200));
      continue;
    }
    if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }
}

/**
 * Runs the session against the api at `url`. Seeded: which reader asks for each list and what it
 * clicks depend on `seed` and the list's number only (not on the order responses arrive in), so the
 * same api answers give the same clicks.
 */
export async function runOnlineSession(options: SessionOptions): Promise<SessionTraffic> {
  const { url, apiKey, readers, k } = options;
  if (readers.length === 0) throw new Error("the session needs at least one reader");
  const pick = mulberry32(options.seed);
  const plan = Array.from({ length: options.lists }, () => readers[Math.floor(pick() * readers.length)]);
  const impressionIds = new Set<string>();
  let clicks = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < plan.length; i = next++) {
      const reader = plan[i] as ClickingReader;
      const served = (await call(`${url}/predict`, apiKey, { userId: reader.userId, k })) as {
        impressionId: string;
        items: { page: string }[];
      };
      impressionIds.add(served.impressionId);
      const clicked = reader.clicks(
        served.items.map((item) => item.page),
        mulberry32((options.seed * 1_000_003 + i) >>> 0),
      );
      if (clicked.length === 0) continue;
      await call(`${url}/events`, apiKey, {
        events: clicked.map((page) => ({
          type: "click",
          userId: reader.userId,
          page,
          impressionId: served.impressionId,
        })),
      });
      clicks += clicked.length;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return { lists: impressionIds.size, clicks, impressionIds };
}

/**
 * The records of impression files as the api writes them (`RAW_HEADERS.impressions`, fields joined by
 * commas: no field holds one), parsed by common's row schema; rows it refuses are counted, not kept.
 */
export function impressionRecords(files: ReadonlyMap<string, string>): {
  records: ImpressionRecord[];
  refused: number;
} {
  const records: ImpressionRecord[] = [];
  let refused = 0;
  for (const [key, body] of files) {
    const [, ...lines] = body.split("\n").filter((line) => line !== "");
    for (const line of lines) {
      const row = parseImpressionLogFields(line.split(","));
      if (row.success) records.push(toImpressionRecord(row.data, key));
      else refused++;
    }
  }
  return { records, refused };
}

/** The session's figures from the impression log: its served lists and the clicks naming them. */
export interface SessionFigures {
  arms: ArmFigures[];
  /** Served rows and click rows of the session found in the log. */
  servedRows: number;
  clickRows: number;
  unattributedClicks: number;
}

/** Joins the session's rows of the log (others' traffic left out) by common's attribution rule. */
export function sessionFigures(records: Iterable<ImpressionRecord>, traffic: SessionTraffic): SessionFigures {
  const mine = [...records].filter(
    (r) => (r.eventType === "served" || r.eventType === "click") && traffic.impressionIds.has(r.impressionId),
  );
  const joined = joinImpressionLog(mine);
  return {
    arms: joined.arms,
    servedRows: mine.filter((r) => r.eventType === "served").length,
    clickRows: mine.filter((r) => r.eventType === "click").length,
    unattributedClicks: joined.unattributedClicks,
  };
}

/**
 * Reads the log (`read`: impression files by key) until it holds every list and click of the session
 * (the api flushes on a timer), and returns the session's figures; throws after `timeoutMs`.
 */
export async function awaitSessionFigures(
  read: () => Promise<ReadonlyMap<string, string>>,
  traffic: SessionTraffic,
  timeoutMs: number,
  pollMs = 500,
): Promise<SessionFigures> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const figures = sessionFigures(impressionRecords(await read()).records, traffic);
    if (figures.servedRows >= traffic.lists && figures.clickRows >= traffic.clicks) return figures;
    if (Date.now() > deadline)
      throw new Error(
        `the impression log holds ${figures.servedRows} of ${traffic.lists} lists and ${figures.clickRows} of ${traffic.clicks} clicks after ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** One line per version, arm and strategy, e.g. `online: version 1 (champion, model): 812 lists, …`. */
export function formatSessionFigures(figures: SessionFigures, k: number): string[] {
  return figures.arms.map(
    (a) =>
      `online: version ${a.modelVersion} (${a.arm}, ${a.strategy}): ${a.impressions} lists, ${a.clickedImpressions} clicked (${a.clicks} clicks), CTR@${k} ${(100 * a.ctr).toFixed(1)} %`,
  );
}
