/**
 * Node's heap settings for every featstore-engine process: the ECS task (infra sets NODE_OPTIONS),
 * its image (featstore-engine/Dockerfile, kept equal by a test), the local task runner, the demo and
 * the benchmarks. One configuration, because the figures in bench/README.md hold only under it.
 *
 * Why a cap: with Node's default heap V8 lets the old generation grow far past the live set (the
 * full snapshot step peaked at 2,119 MB RSS for a live heap of ≤ 471 MB). 640 MB is ~1.35× the
 * largest live heap measured at full scale (snapshot ≤ 471 MB, ingest ≤ 440 MB), so a normal-size
 * ingestion or snapshot does not run out of it. Semi-spaces of 32 MB: V8's new space is two of them
 * (64 MB), where the benchmarks' former 64 MB let it take 128 MB of RSS.
 */
export const ENGINE_HEAP = { maxOldSpaceMb: 640, maxSemiSpaceMb: 32 } as const;

/** `ENGINE_HEAP` as node's command-line flags. */
export const ENGINE_NODE_ARGS: readonly string[] = [
  `--max-old-space-size=${ENGINE_HEAP.maxOldSpaceMb}`,
  `--max-semi-space-size=${ENGINE_HEAP.maxSemiSpaceMb}`,
];

/** `ENGINE_HEAP` as the NODE_OPTIONS value the engine's processes run with. */
export const ENGINE_NODE_OPTIONS = ENGINE_NODE_ARGS.join(" ");

/**
 * The least memory (MiB) of the engine's ECS task: the full-scale peaks under `ENGINE_HEAP` are
 * ~1 GB RSS (bench/README.md, "## Ingest"), and the task needs room for the kernel's page cache of
 * its own image and a margin; 2,048 is the least Fargate size at 1 vCPU.
 */
export const ENGINE_MIN_TASK_MEMORY_MIB = 2048;
