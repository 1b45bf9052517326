/**
 * The client's configuration, and the environment variables a service's `main.ts` reads it from
 * (the names MLflow's own clients use, so one set of variables serves Python and TypeScript).
 */
import { X509Certificate } from "node:crypto";
import { AppError, envFields } from "@gplay/common";
import { z } from "zod";
import type { MlflowAuth } from "./adapters/http-transport.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./domain/retry.js";

export interface MlflowClientConfig {
  /** The tracking server's base URL, e.g. http://127.0.0.1:5000. */
  trackingUri: string;
  auth?: MlflowAuth;
  /**
   * PEM certificate(s) of the CA that signed the server's certificate (a private CA inside the VPC):
   * the only roots trusted for an https tracking URI. Without it, Node's public roots apply.
   */
  caPem?: string;
  /** Per-request timeout (for streamed artifacts: the longest silence). Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * One or more PEM certificates; a value passed with escaped newlines (`\n`) is unescaped. Each block
 * must parse as an X.509 certificate, so a truncated or wrong value fails at start, not at the first
 * call.
 */
const caPemField = () =>
  z
    .string()
    .transform((v) => v.replace(/\\n/g, "\n").trim())
    .superRefine((pem, ctx) => {
      const blocks = pem.match(PEM_BLOCK) ?? [];
      if (blocks.length === 0) {
        ctx.addIssue({
          code: "custom",
          message: "expected PEM certificate(s) (-----BEGIN CERTIFICATE-----)",
        });
        return;
      }
      for (const [i, block] of blocks.entries()) {
        try {
          new X509Certificate(block);
        } catch {
          ctx.addIssue({
            code: "custom",
            message: `certificate ${i + 1} of the PEM is not a valid X.509 certificate`,
          });
        }
      }
    });

/** Variables a service passes through common's `parseEnv` to configure this client. */
export const mlflowEnvSchema = z.object({
  MLFLOW_TRACKING_URI: envFields.url(),
  MLFLOW_TRACKING_USERNAME: z.string().min(1).optional(),
  MLFLOW_TRACKING_PASSWORD: z.string().min(1).optional(),
  MLFLOW_TRACKING_TOKEN: z.string().min(1).optional(),
  /** The CA to trust for an https tracking URI (infra passes its private CA's certificate). */
  MLFLOW_TRACKING_SERVER_CA_PEM: caPemField().optional(),
  /** Seconds, as MLflow's Python client spells it. */
  MLFLOW_HTTP_REQUEST_TIMEOUT: envFields.int(1, 3600).default(30),
  MLFLOW_HTTP_REQUEST_MAX_RETRIES: envFields.int(0, 20).default(3),
});
export type MlflowEnv = z.infer<typeof mlflowEnvSchema>;

/** Builds a client configuration from parsed variables; a username needs its password. */
export function mlflowConfigFromEnv(env: MlflowEnv): MlflowClientConfig {
  const hasUser = env.MLFLOW_TRACKING_USERNAME !== undefined;
  const hasPassword = env.MLFLOW_TRACKING_PASSWORD !== undefined;
  if (hasUser !== hasPassword) {
    throw new AppError(
      "CONFIG_INVALID",
      "Set both MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or neither",
      { details: { variables: [hasUser ? "MLFLOW_TRACKING_PASSWORD" : "MLFLOW_TRACKING_USERNAME"] } },
    );
  }
  if (hasUser && env.MLFLOW_TRACKING_TOKEN !== undefined) {
    throw new AppError("CONFIG_INVALID", "Set MLFLOW_TRACKING_TOKEN or a username/password, not both", {
      details: { variables: ["MLFLOW_TRACKING_TOKEN"] },
    });
  }
  if (env.MLFLOW_TRACKING_SERVER_CA_PEM !== undefined && !env.MLFLOW_TRACKING_URI.startsWith("https://")) {
    throw new AppError(
      "CONFIG_INVALID",
      "MLFLOW_TRACKING_SERVER_CA_PEM is set but MLFLOW_TRACKING_URI is not https://: use the https URI or drop the CA",
      { details: { variables: ["MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_SERVER_CA_PEM"] } },
    );
  }
  let auth: MlflowAuth | undefined;
  if (env.MLFLOW_TRACKING_USERNAME !== undefined && env.MLFLOW_TRACKING_PASSWORD !== undefined) {
    auth = { kind: "basic", username: env.MLFLOW_TRACKING_USERNAME, password: env.MLFLOW_TRACKING_PASSWORD };
  } else if (env.MLFLOW_TRACKING_TOKEN !== undefined) {
    auth = { kind: "bearer", token: env.MLFLOW_TRACKING_TOKEN };
  }
  return {
    trackingUri: env.MLFLOW_TRACKING_URI,
    ...(auth === undefined ? {} : { auth }),
    ...(env.MLFLOW_TRACKING_SERVER_CA_PEM === undefined ? {} : { caPem: env.MLFLOW_TRACKING_SERVER_CA_PEM }),
    timeoutMs: env.MLFLOW_HTTP_REQUEST_TIMEOUT * 1000,
    retry: { maxAttempts: env.MLFLOW_HTTP_REQUEST_MAX_RETRIES + 1 },
  };
}

/** The retry policy a configuration asks for, over the defaults. */
export function retryPolicyOf(config: MlflowClientConfig): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...config.retry };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new AppError(
      "CONFIG_INVALID",
      `retry.maxAttempts must be a whole number ≥ 1, got ${policy.maxAttempts}`,
    );
  }
  return policy;
}
