/** The synthetic G1 data generator (see `generate.ts`; CLI in `cli.ts`). */
export * from "./generate.js";
export { Rng } from "./rng.js";
export * from "./worlds.js";
