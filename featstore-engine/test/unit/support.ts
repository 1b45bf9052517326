import type { Interaction } from "@gplay/common";
import { type GeneratorOptions, generateDataset, type OutputSink } from "../../src/generator/generate.js";
import { Rng } from "../../src/generator/rng.js";

/** Generated files kept in memory: path → text. */
export function memorySink(): { sink: OutputSink; files: Map<string, string> } {
  const files = new Map<string, string>();
  return {
    files,
    sink: {
      open(path) {
        const parts: string[] = [];
        return {
          write: (text) => parts.push(text),
          close: () => files.set(path, parts.join("")),
        };
      },
    },
  };
}

export function generateInMemory(options: GeneratorOptions) {
  const { sink, files } = memorySink();
  const expected = generateDataset(options, sink);
  return { expected, files };
}

/** Text as a stream of byte chunks of the given size (exercises chunk boundaries). */
export function* chunked(text: string | Uint8Array, size: number): Generator<Uint8Array> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export const uuidFrom = (rng: Rng) => rng.uuid();

/** n interactions on distinct random pages, one minute apart. */
export function interactions(n: number, seed = "x", start = 1_656_633_600_000): Interaction[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    page: rng.uuid(),
    timestamp: start + i * 60_000,
    clicks: rng.int(5),
    timeOnPageMs: 5_000 + rng.int(100_000),
    scrollPercentage: Math.round(rng.next() * 10_000) / 100,
    pageVisits: 1,
  }));
}
