/**
 * The figures a benchmark run printed, kept as JSON under `.local/bench/figures/<name>.json` so that
 * `cost-report.ts` builds docs/cost.md from measured numbers only (never typed in by hand).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface Figures {
  /** The benchmark's command line, as run. */
  command: string;
  measuredAt: string;
  [key: string]: unknown;
}

const dir = (root: string) => path.join(root, ".local", "bench", "figures");

/** Records a run's figures (the latest run of a benchmark replaces the previous one). */
export function writeFigures(root: string, name: string, figures: Record<string, unknown>): void {
  mkdirSync(dir(root), { recursive: true });
  const record: Figures = {
    command:
      `pnpm --filter @gplay/bench ${process.env.npm_lifecycle_event ?? path.basename(process.argv[1] ?? "")} ${process.argv.slice(2).join(" ")}`.trim(),
    measuredAt: new Date().toISOString(),
    ...figures,
  };
  writeFileSync(path.join(dir(root), `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** A benchmark's latest figures, or undefined when it has not been run on this checkout. */
export function readFigures(root: string, name: string): Figures | undefined {
  const file = path.join(dir(root), `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Figures) : undefined;
}
