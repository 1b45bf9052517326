/**
 * TLS inside the VPC as data: the private name MLflow's internal load balancer answers to, the
 * private CA that signs its certificate and the listener's port. Pure: components/mlflow-tls.ts and
 * components/mlflow-service.ts build resources from these, the invariant `mlflow-tls` checks the
 * recorded resources against the same constants (docs/security.md, "TLS inside the VPC").
 */

/** The private hosted zone of a stack (associated with its VPC only; `.internal` is reserved for private use). */
export const internalZoneName = (prefix: string): string => `${prefix}.internal`;

/** MLflow's name inside the VPC: the certificate covers it, clients call `https://<this>`. */
export const mlflowHostname = (prefix: string): string => `mlflow.${internalZoneName(prefix)}`;

/** The tracking URI training and the api use. */
export const mlflowTrackingUri = (prefix: string): string => `https://${mlflowHostname(prefix)}`;

/** The internal listener's port (HTTPS). Nothing listens on 80. */
export const MLFLOW_HTTPS_PORT = 443;

/**
 * The stack's private root CA (AWS Private CA). GENERAL_PURPOSE because ACM cannot issue (or renew)
 * certificates from a CA in SHORT_LIVED_CERTIFICATE mode, and the ALB only takes ACM certificates.
 * RSA 2048 because ACM private certificates must share the CA's key family.
 */
export const PRIVATE_CA = {
  type: "ROOT",
  usageMode: "GENERAL_PURPOSE",
  keyAlgorithm: "RSA_2048",
  signingAlgorithm: "SHA256WITHRSA",
  /** AWS Private CA's template for a self-signed root certificate. */
  rootTemplateArn: "arn:aws:acm-pca:::template/RootCACertificate/V1",
  /** The root outlives many yearly leaf renewals (ACM needs the CA to outlast each leaf). */
  rootValidityYears: 10,
} as const;

/**
 * What ACM needs on the CA to renew its private certificates by itself (managed renewal): without
 * this permission the certificate expires after 13 months.
 */
export const ACM_RENEWAL_ACTIONS = ["IssueCertificate", "GetCertificate", "ListPermissions"] as const;
export const ACM_PRINCIPAL = "acm.amazonaws.com";
