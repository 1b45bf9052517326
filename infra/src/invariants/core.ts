import type { PolicyDocument, Statement } from "../plan/iam.js";
import { asArray, json, type RecordedResource } from "./resources.js";

/**
 * What every invariant is: a pure check over recorded resources that returns the violations it
 * found (empty = holds). The mock tests run them on whole programs, the policy pack on a stack, and
 * the mutation tests expect each to fail once one property is removed.
 */
export interface InvariantContext {
  prefix: string;
  environment: "dev" | "prod";
}

export interface Invariant {
  id: string;
  description: string;
  check(resources: readonly RecordedResource[], ctx: InvariantContext): string[];
}

/** The messages of the entries whose condition is false. */
export const problems = (entries: [boolean, string][]): string[] =>
  entries.filter(([ok]) => !ok).map(([, message]) => message);

/** The statements of a policy document given as JSON text or as an object. */
export function statements(policy: unknown): Statement[] {
  const doc = json(policy) as PolicyDocument | undefined;
  return asArray(doc?.Statement);
}

/** `gplay-api-alb` → `gplay-api`: the component a child resource was declared in (`${name}-…`). */
const componentOf = (name: string) => name.slice(0, name.lastIndexOf("-"));

/**
 * Whether `child.inputs[property]` references `owner`: by ARN when both are known (mocks, an
 * update), otherwise, as in a preview where AWS has assigned nothing yet, by the house naming rule
 * that children of one component are named `${component}-…`.
 */
export function references(child: RecordedResource, property: string, owner: RecordedResource): boolean {
  const ref = child.inputs[property];
  const arn = owner.inputs.arn;
  if (typeof ref === "string" && typeof arn === "string") return ref === arn;
  return child.name.startsWith(`${componentOf(owner.name)}-`);
}
