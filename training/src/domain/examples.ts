/**
 * Training examples for the ranker: for each reader of the label window, every target page in the
 * reader's candidate pool is a positive and `negatives` pages sampled (seeded) from the rest of the
 * pool are negatives. Features come from the world at the window's start only.
 */
import { buildModelInputs, concatModelInputs, type ModelInputArrays, mulberry32 } from "@gplay/common";
import type { EvalCase } from "./split.js";
import { candidatePool, type World } from "./world.js";

export interface Examples {
  inputs: ModelInputArrays;
  labels: Float32Array;
  positives: number;
}

export function buildExamples(
  world: World,
  cases: readonly EvalCase[],
  negatives: number,
  seed: number,
): Examples {
  const rng = mulberry32(seed);
  const parts: ModelInputArrays[] = [];
  const labels: number[] = [];
  let positives = 0;
  for (const c of cases) {
    const profile = world.profile(c.userId);
    // The ranker serves readers with history; cold-start readers get the popularity lists.
    if (profile.interactions === 0) continue;
    // Only what the served path can rank is a positive: a target outside the reader's candidate pool
    // (too old, not yet issued, from no tier) would teach the ranker to prefer what it never sees.
    const candidates = candidatePool(world, profile);
    const pos = candidates.filter((p) => c.targets.has(p));
    if (pos.length === 0) continue;
    const pool = candidates.filter((p) => !c.targets.has(p));
    const neg: string[] = [];
    for (let k = 0; k < pos.length * negatives && pool.length > 0; k++) {
      neg.push(pool[Math.floor(rng() * pool.length)] as string);
    }
    parts.push(buildModelInputs(profile, [...pos, ...neg], world.context));
    for (let k = 0; k < pos.length; k++) labels.push(1);
    for (let k = 0; k < neg.length; k++) labels.push(0);
    positives += pos.length;
  }
  return { inputs: concatModelInputs(parts), labels: Float32Array.from(labels), positives };
}

/** Examples of several label windows as one set. */
export function mergeExamples(parts: readonly Examples[]): Examples {
  const labels = new Float32Array(parts.reduce((n, p) => n + p.labels.length, 0));
  let at = 0;
  for (const p of parts) {
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return {
    inputs: concatModelInputs(parts.map((p) => p.inputs)),
    labels,
    positives: parts.reduce((n, p) => n + p.positives, 0),
  };
}
