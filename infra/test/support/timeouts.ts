/**
 * The timeout of a test or hook that builds `stacks` whole programs under mocks: one build takes
 * seconds on a quiet machine and ten or more at a load of 10, so the projects' 30 s default fits only
 * one or two (jest reads no `testTimeout` inside projects: each such test names its own).
 */
export const buildTimeoutMs = (stacks: number): number => 60_000 * Math.max(1, stacks);
