import { beforeAll, expect, test } from "@jest/globals";
import * as pulumi from "@pulumi/pulumi";
import { BOOTSTRAP_PROJECT } from "../../policy/policies.js";
import type { RecordedResource } from "../../src/invariants/resources.js";
import { BOOTSTRAP_MUTATIONS } from "../support/bootstrap-mutations.js";
import { mocks, recorder } from "../support/mocks.js";
import { mutateRecorded } from "../support/mutations.js";
import { runPolicyPack, runStackPolicy } from "../support/policy-harness.js";
import { buildTimeoutMs } from "../support/timeouts.js";

/** The policy pack on the bootstrap program (`pulumi up --policy-pack ../policy` in infra/bootstrap). */
let resources: RecordedResource[];
const opts = { stack: "bootstrap", project: BOOTSTRAP_PROJECT, view: "update" as const };

beforeAll(async () => {
  await pulumi.runtime.setMocks(mocks, BOOTSTRAP_PROJECT, "bootstrap", false);
  pulumi.runtime.setAllConfig(
    {
      "aws:region": "us-east-1",
      [`${BOOTSTRAP_PROJECT}:githubRepository`]: "globo/gplay-recommend",
      [`${BOOTSTRAP_PROJECT}:stateBucket`]: "gplay-pulumi-state-123456789012",
    },
    [],
  );
  const program: Record<string, unknown> = await import("../../bootstrap/index.js");
  await new Promise((res) => pulumi.output(program).apply(res));
  resources = [...recorder.resources];
}, buildTimeoutMs(1));

test("the bootstrap stack has 0 violations", () => {
  expect(resources.length).toBeGreaterThan(20);
  expect(runPolicyPack(resources, opts)).toEqual([]);
});

test("the stack policy reports every bootstrap mutation", () => {
  for (const m of BOOTSTRAP_MUTATIONS) {
    const violations = runStackPolicy(mutateRecorded(resources, m), opts);
    expect([m.what, violations.some((v) => v.startsWith(`${m.invariant}: `))]).toEqual([m.what, true]);
  }
});
