/**
 * Test helpers: the tracking server's URL (from the local stack), clients, unique names and cleanup
 * of every experiment and registered model a test creates.
 */
import { AppError } from "@gplay/common";
import { type LocalStackEndpoints, readLocalStack, uniquePrefix } from "@gplay/scripts";
import { MlflowClient, type MlflowClientConfig } from "../../../src/index.js";

/** The running local stack (jest's global setup started or reused it). */
export const stack: LocalStackEndpoints = await readLocalStack();

export function trackingUri(): string {
  return stack.mlflowUrl;
}

/** A name no other test (or earlier run) uses: `t-<label>-<random>`. */
export function uniqueName(label: string): string {
  return uniquePrefix(label);
}

export function newClient(overrides: Partial<MlflowClientConfig> = {}): MlflowClient {
  return new MlflowClient({
    trackingUri: trackingUri(),
    timeoutMs: 60_000,
    retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 },
    ...overrides,
  });
}

/** Remembers what a test file created and removes it afterwards. */
export class Cleanup {
  private readonly experiments: string[] = [];
  private readonly models: string[] = [];

  constructor(private readonly client: MlflowClient) {}

  experiment(id: string): string {
    this.experiments.push(id);
    return id;
  }

  model(name: string): string {
    this.models.push(name);
    return name;
  }

  async run(): Promise<void> {
    for (const name of this.models) {
      await this.client.deleteRegisteredModel(name).catch(ignoreNotFound);
    }
    for (const id of this.experiments) {
      await this.client.deleteExperiment(id).catch(ignoreNotFound);
    }
  }
}

function ignoreNotFound(error: unknown): void {
  if (error instanceof AppError && error.code === "NOT_FOUND") return;
  throw error;
}
