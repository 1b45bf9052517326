import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { resourcePolicies, stackPolicy } from "../../policy/policies.js";
import type { RecordedResource } from "../../src/invariants/resources.js";

/**
 * Runs the whole policy pack (every resource policy on every resource, then the stack policy) over
 * recorded resources, the way the Pulumi engine hands them over. Two views: `preview`, where
 * nothing AWS assigns is known yet (no ids, no ARNs), and `update`, where it is.
 */
export type View = "preview" | "update";

export const urnOf = (stack: string, project: string, type: string, name: string) =>
  `urn:pulumi:${stack}::${project}::${type}::${name}`;

function propsOf(r: RecordedResource, view: View): Record<string, unknown> {
  if (view === "update") return r.inputs;
  const { arn: _arn, ...props } = r.inputs;
  return props;
}

export function runPolicyPack(
  resources: readonly RecordedResource[],
  opts: { stack: string; project: string; view: View },
): string[] {
  const violations: string[] = [];
  for (const r of resources) {
    const args = {
      type: r.type,
      name: r.name,
      props: propsOf(r, opts.view),
      urn: urnOf(opts.stack, opts.project, r.type, r.name),
      opts: {},
    } as unknown as ResourceValidationArgs;
    for (const policy of resourcePolicies)
      for (const validate of [policy.validateResource ?? []].flat())
        void validate(args, (message: string) => violations.push(`${policy.name} (${r.name}): ${message}`));
  }
  violations.push(...runStackPolicy(resources, opts));
  return violations;
}

/** Only the stack policy (the invariants it runs), on the same views. */
export function runStackPolicy(
  resources: readonly RecordedResource[],
  opts: { stack: string; project: string; view: View },
): string[] {
  const violations: string[] = [];
  void stackPolicy.validateStack(stackArgs(resources, opts), (m: string) => violations.push(m));
  return violations;
}

function stackArgs(
  resources: readonly RecordedResource[],
  opts: { stack: string; project: string; view: View },
): StackValidationArgs {
  return {
    resources: resources.map(
      (r) =>
        ({
          type: r.type,
          name: r.name,
          props: propsOf(r, opts.view),
          urn: urnOf(opts.stack, opts.project, r.type, r.name),
        }) as unknown as PolicyResource,
    ),
  } as unknown as StackValidationArgs;
}
