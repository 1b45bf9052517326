import { beforeAll, describe, expect, test } from "@jest/globals";
import { INVARIANTS, type InvariantContext } from "../../src/invariants/checks.js";
import { type Built, buildPlatform } from "../support/build.js";
import {
  asTransformation,
  MUTATION_STACKS,
  MUTATIONS,
  type Mutation,
  type MutationStack,
  mutateRecorded,
} from "../support/mutations.js";
import { buildTimeoutMs } from "../support/timeouts.js";

const ctx = (stack: MutationStack): InvariantContext => {
  const environment = stack.startsWith("prod") ? "prod" : "dev";
  return { prefix: `gplay-${environment}`, environment };
};
const invariant = (id: string) => {
  const found = INVARIANTS.find((i) => i.id === id);
  if (found === undefined) throw new Error(`no invariant ${id}`);
  return found;
};
const label = (m: Mutation) => `${m.invariant}: ${m.what}`;

const baseline: Partial<Record<MutationStack, Built>> = {};
beforeAll(async () => {
  for (const stack of MUTATION_STACKS) baseline[stack] = await buildPlatform(stack);
}, buildTimeoutMs(MUTATION_STACKS.length));
const base = (stack: MutationStack) => {
  const b = baseline[stack];
  if (b === undefined) throw new Error("baseline not built");
  return b.resources;
};

test("every invariant has at least one mutation that must break it", () => {
  const covered = new Set(MUTATIONS.map((m) => m.invariant));
  expect(INVARIANTS.map((i) => i.id).filter((id) => !covered.has(id))).toEqual([]);
});

describe("removing one property from the recorded resources breaks its invariant", () => {
  test.each(MUTATIONS.map((m) => [label(m), m] as const))("%s", (_label, m) => {
    const inv = invariant(m.invariant);
    expect(inv.check(base(m.stack), ctx(m.stack))).toEqual([]);
    expect(inv.check(mutateRecorded(base(m.stack), m), ctx(m.stack)).length).toBeGreaterThan(0);
  });
});

/**
 * Rebuilding the whole program costs about a second per mutation here, so the program-level run
 * takes one mutation for each of 8 invariants across the components; the recorded-resource run above covers every entry.
 */
const PROGRAM_SAMPLE = [
  "lake-tls-only",
  "ingest-rule-contract",
  "event-targets-delivery",
  "secrets-not-in-environment",
  "api-prod-ha",
  "mlflow-internal",
  "rds-private-encrypted",
  "iam-least-privilege",
];
const sample = PROGRAM_SAMPLE.map((id) => {
  const m = MUTATIONS.find((x) => x.invariant === id);
  if (m === undefined) throw new Error(`no mutation for ${id}`);
  return m;
});

describe("building the program with one property removed breaks its invariant", () => {
  test.each(sample.map((m) => [label(m), m] as const))(
    "%s",
    async (_label, m) => {
      const hits = { count: 0 };
      const { resources } = await buildPlatform(m.stack, [asTransformation(m, hits)]);
      expect(hits.count).toBe(1);
      expect(invariant(m.invariant).check(resources, ctx(m.stack)).length).toBeGreaterThan(0);
    },
    buildTimeoutMs(1),
  );
});
