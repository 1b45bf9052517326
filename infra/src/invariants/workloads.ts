import { resourceNames, type Workload } from "../plan/names.js";
import type { InvariantContext } from "./core.js";
import { asArray, belongsTo, deepEqual, json, ofType, type RecordedResource, T } from "./resources.js";

/**
 * How invariants find a workload's pieces among recorded resources: its task definition and
 * container variables, its roles and their inline policies, the targets of a rule, a service by
 * name, the private subnets. Pure; shared by every invariant file.
 */
type R = readonly RecordedResource[];

export function containers(td: RecordedResource): Record<string, unknown>[] {
  return asArray(json(td.inputs.containerDefinitions) as Record<string, unknown>[] | undefined);
}

export interface ContainerVars {
  environment: Record<string, string>;
  /** Variable name → `valueFrom`. */
  secrets: Record<string, string>;
}

/** The first container's plain environment and secrets of a workload's task definition. */
export function varsOf(rs: R, ctx: InvariantContext, w: Workload): ContainerVars | undefined {
  const td = taskDef(rs, ctx, w);
  const c = td === undefined ? undefined : containers(td)[0];
  if (c === undefined) return undefined;
  return {
    environment: Object.fromEntries(
      asArray(c.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    ),
    secrets: Object.fromEntries(
      asArray(c.secrets as { name: string; valueFrom: string }[]).map((e) => [e.name, e.valueFrom]),
    ),
  };
}

/** The secret a `valueFrom` names, without a `:json-key:version-stage:version-id` suffix. */
export function secretArnOf(valueFrom: string): string {
  return valueFrom.startsWith("arn:") ? valueFrom.split(":").slice(0, 7).join(":") : valueFrom;
}

export const family = (ctx: InvariantContext, w: Workload) => resourceNames(ctx.prefix).family[w];
export const taskDef = (rs: R, ctx: InvariantContext, w: Workload) =>
  ofType(rs, T.taskDefinition).find((td) => td.inputs.family === family(ctx, w));

/** Whether an ARN (real or mock) names a revision of this task definition family. */
export const isTaskDefArn = (arn: unknown, fam: string) =>
  typeof arn === "string" && new RegExp(`task-definition/${fam}(:\\d+)?$`).test(arn);

export function targetsOfRule(rs: R, rule: RecordedResource) {
  return ofType(rs, T.target).filter(
    (t) =>
      (rule.inputs.name !== undefined && t.inputs.rule === rule.inputs.name) ||
      belongsTo(t, rule, "rule") ||
      t.name === rule.name,
  );
}

export function ruleWithPattern(rs: R, pattern: unknown) {
  return ofType(rs, T.rule).find((r) => deepEqual(json(r.inputs.eventPattern), pattern));
}

export function transformerEquals(
  target: RecordedResource,
  expected: { inputPathsMap: Record<string, string>; inputTemplate: string },
) {
  const t = target.inputs.inputTransformer;
  return (
    t !== undefined &&
    deepEqual(t.inputPaths, expected.inputPathsMap) &&
    t.inputTemplate === expected.inputTemplate
  );
}

export function roleOf(rs: R, arn: unknown): RecordedResource | undefined {
  return ofType(rs, T.role).find(
    (r) => r.inputs.arn === arn || (typeof arn === "string" && arn.endsWith(`/${r.name}`)),
  );
}

export function policiesOfRole(rs: R, role: RecordedResource | undefined) {
  if (role === undefined) return [];
  return ofType(rs, T.rolePolicy).filter(
    (p) => (role.id !== undefined && p.inputs.role === role.id) || p.name === role.name,
  );
}

export function serviceByName(rs: R, name: string) {
  return ofType(rs, T.service).find((s) => s.inputs.name === name);
}

export function privateSubnetIds(rs: R): Set<string> {
  return new Set(
    ofType(rs, T.subnet)
      .filter((s) => s.inputs.tags?.Tier === "private")
      .map((s) => s.id ?? s.name),
  );
}
