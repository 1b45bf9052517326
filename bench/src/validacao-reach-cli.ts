/**
 * What a served list could reach in the validacao days, per world of the quality bench
 * (src/validacao-reach.ts; docs/quality.md, "What a static list can reach"):
 *
 *   node --conditions=@gplay/source --import tsx bench/src/validacao-reach-cli.ts [--worlds 6] [--seeds a,b] [--users 20000] [--days 7]
 */
import { parseArgs } from "node:util";
import { generatedWorld, type WorldData, worldSeeds } from "./quality-worlds.js";
import { validacaoReach } from "./validacao-reach.js";

const { values } = parseArgs({
  options: {
    worlds: { type: "string", default: "6" },
    users: { type: "string", default: "20000" },
    days: { type: "string", default: "7" },
    seeds: { type: "string" },
  },
});

const share = (n: number, of: number) => (of === 0 ? "n/a" : `${((100 * n) / of).toFixed(1)} %`);

/** Every read the world holds, treino and validacao, by time. */
function portalReads(data: WorldData): { page: string; timestamp: number }[] {
  const reads = (data.events as { page: string; timestamp: number }[]).map(({ page, timestamp }) => ({
    page,
    timestamp,
  }));
  for (const accesses of data.validation.values()) reads.push(...accesses);
  return reads.sort((a, b) => a.timestamp - b.timestamp);
}

async function main(): Promise<void> {
  console.log(
    "world: validacao readers with a new read, their targets; targets issued after the snapshot; of those, issued before the reader's first validacao visit; HR@10 of the 10 newest unread articles at that visit, and of the 10 unread most read among the portal's 1,000 latest reads before it",
  );
  for (const seed of worldSeeds(Number(values.worlds), values.seeds)) {
    const { data } = await generatedWorld(seed, { users: Number(values.users), days: Number(values.days) });
    const reach = validacaoReach({
      asOf: data.asOf,
      issued: new Map([...data.articles].map(([page, a]) => [page, a.issued])),
      validation: data.validation,
      readBefore: (userId) => new Set((data.readers.get(userId)?.log ?? []).map((e) => e.page)),
      reads: portalReads(data),
    });
    console.log(
      `${seed}: ${reach.readers} readers, ${reach.targets} targets; issued after the snapshot ${share(reach.issuedAfterSnapshot, reach.targets)}; ` +
        `before the first visit ${share(reach.issuedBeforeFirstVisit, reach.targets)}; ` +
        `newest ten HR@10 ${(reach.newestTenHits / Math.max(1, reach.readers)).toFixed(4)}; ` +
        `online buffer HR@10 ${(reach.onlineBufferHits / Math.max(1, reach.readers)).toFixed(4)}`,
    );
  }
}

await main();
