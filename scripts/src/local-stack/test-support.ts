import { randomBytes } from "node:crypto";
import { type AwsClients, createAwsClients, resourcePrefixSchema } from "@gplay/common";
import { destroyEnvironment, type ProvisionedEnvironment, provisionEnvironment } from "./provision.js";
import { LOCAL_CREDENTIALS, type LocalStackEndpoints, readLocalStack } from "./stack.js";

const MAX_PREFIX = 40;

/**
 * A resource prefix no other test shares: `t-<label>-<random>`, valid per resourcePrefixSchema
 * (the label is lower-cased, non-alphanumerics become hyphens, and it is cut to fit 40 chars).
 */
export function uniquePrefix(label: string): string {
  const random = randomBytes(5).toString("hex").slice(0, 8);
  const room = MAX_PREFIX - "t-".length - 1 - random.length;
  const cleaned = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, room)
    .replace(/^-+|-+$/g, "");
  return resourcePrefixSchema.parse(cleaned.length > 0 ? `t-${cleaned}-${random}` : `t-${random}`);
}

/** The platform's AWS clients pointed at the emulator (short timeouts, few retries: fail fast in tests). */
export function localAwsClients(endpoints: LocalStackEndpoints): AwsClients {
  return createAwsClients({
    region: endpoints.region,
    endpoint: endpoints.awsEndpoint,
    credentials: { ...LOCAL_CREDENTIALS },
    requestTimeoutMs: 30_000,
    maxAttempts: 2,
  });
}

/** An isolated environment of one test on the running local stack: its own prefix, and clients. */
export interface LocalTestEnvironment {
  endpoints: LocalStackEndpoints;
  env: ProvisionedEnvironment;
  clients: AwsClients;
}

/** Reads the running stack, provisions a fresh prefix for `label` and opens clients on the emulator. */
export async function provisionTestEnvironment(label: string): Promise<LocalTestEnvironment> {
  const endpoints = await readLocalStack();
  const env = await provisionEnvironment(endpoints, uniquePrefix(label));
  return { endpoints, env, clients: localAwsClients(endpoints) };
}

/** Removes everything `provisionTestEnvironment` created and closes its clients. */
export async function destroyTestEnvironment(t: LocalTestEnvironment): Promise<void> {
  try {
    await destroyEnvironment(t.endpoints, t.env.prefix);
  } finally {
    t.clients.destroy();
  }
}
