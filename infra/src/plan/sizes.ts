/**
 * Fargate accepts only some CPU/memory pairs (AWS "Task CPU and memory" table); a bad pair fails at
 * deploy time, so we reject it at plan time. After pulumi-awsx `ecs/fargateMemoryAndCpu.ts`.
 */
const FARGATE_MEMORY: Record<number, { min: number; max: number; step: number } | readonly number[]> = {
  256: [512, 1024, 2048],
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

/** Returns why a CPU/memory pair is not a valid Fargate size, or undefined when it is. */
export function fargateSizeProblem(cpu: number, memory: number): string | undefined {
  const allowed = FARGATE_MEMORY[cpu];
  if (allowed === undefined)
    return `cpu ${cpu} is not a Fargate size (${Object.keys(FARGATE_MEMORY).join(", ")})`;
  const ok = Array.isArray(allowed)
    ? allowed.includes(memory)
    : (() => {
        const r = allowed as { min: number; max: number; step: number };
        return memory >= r.min && memory <= r.max && (memory - r.min) % r.step === 0;
      })();
  return ok ? undefined : `memory ${memory} MiB is not valid with cpu ${cpu}`;
}
