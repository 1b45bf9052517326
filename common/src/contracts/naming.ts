import { z } from "zod";

/**
 * Every AWS resource name derives from one prefix: `gplay-<env>` in AWS, a unique one per test
 * locally, so parallel tests never share a bucket, table or rule.
 */
export const resourcePrefixSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/,
    "3–40 chars: lowercase letters, digits and hyphens, starting with a letter",
  );

export function resourcePrefix(project: string, environment: string): string {
  return resourcePrefixSchema.parse(`${project}-${environment}`);
}
