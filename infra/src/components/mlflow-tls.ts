import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ACM_PRINCIPAL,
  ACM_RENEWAL_ACTIONS,
  internalZoneName,
  mlflowHostname,
  PRIVATE_CA,
} from "../plan/internal-tls.js";

export interface MlflowTlsArgs {
  prefix: string;
  vpcId: pulumi.Input<string>;
  /** prod keeps a deleted CA restorable for 30 days, dev for 7. */
  prod: boolean;
}

/**
 * What encrypts MLflow's traffic inside the VPC: a private hosted zone (visible only from the VPC)
 * that holds MLflow's name, the stack's private root CA (AWS Private CA) and an ACM private
 * certificate for that name, which ACM renews by itself. Clients trust `caCertificatePem`.
 */
export class MlflowTls extends pulumi.ComponentResource {
  readonly hostname: string;
  readonly zoneId: pulumi.Output<string>;
  readonly certificateArn: pulumi.Output<string>;
  /** The root CA's certificate (public, not a secret): the trust anchor clients are given. */
  readonly caCertificatePem: pulumi.Output<string>;

  constructor(name: string, args: MlflowTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:mlflow:MlflowTls", name, {}, opts);
    const parent = { parent: this };
    this.hostname = mlflowHostname(args.prefix);

    // The stack's private zone: resolvable from its VPC only.
    const zone = new aws.route53.Zone(
      `${name}-zone`,
      {
        name: internalZoneName(args.prefix),
        comment: `${args.prefix}: private names inside the VPC`,
        vpcs: [{ vpcId: args.vpcId }],
      },
      parent,
    );
    this.zoneId = zone.zoneId;

    // The private root CA; it signs only this stack's internal certificates.
    const ca = new aws.acmpca.CertificateAuthority(
      `${name}-ca`,
      {
        type: PRIVATE_CA.type,
        usageMode: PRIVATE_CA.usageMode,
        certificateAuthorityConfiguration: {
          keyAlgorithm: PRIVATE_CA.keyAlgorithm,
          signingAlgorithm: PRIVATE_CA.signingAlgorithm,
          subject: { commonName: `${args.prefix} internal root CA`, organization: "GPlayRecommend" },
        },
        permanentDeletionTimeInDays: args.prod ? 30 : 7,
      },
      parent,
    );
    // The root's self-signed certificate (the CA signs its own CSR).
    const root = new aws.acmpca.Certificate(
      `${name}-ca-root`,
      {
        certificateAuthorityArn: ca.arn,
        certificateSigningRequest: ca.certificateSigningRequest,
        signingAlgorithm: PRIVATE_CA.signingAlgorithm,
        templateArn: PRIVATE_CA.rootTemplateArn,
        validity: { type: "YEARS", value: String(PRIVATE_CA.rootValidityYears) },
      },
      parent,
    );
    // Installs the root certificate: the CA becomes ACTIVE and can issue.
    const activation = new aws.acmpca.CertificateAuthorityCertificate(
      `${name}-ca-root`,
      {
        certificateAuthorityArn: ca.arn,
        certificate: root.certificate,
        certificateChain: root.certificateChain,
      },
      parent,
    );
    // Lets ACM renew the certificate it issued from this CA (managed renewal).
    const renewal = new aws.acmpca.Permission(
      `${name}-ca-acm`,
      { certificateAuthorityArn: ca.arn, actions: [...ACM_RENEWAL_ACTIONS], principal: ACM_PRINCIPAL },
      parent,
    );
    // MLflow's certificate: private, issued by the CA above (no DNS validation for private names).
    const certificate = new aws.acm.Certificate(
      `${name}-cert`,
      { domainName: this.hostname, certificateAuthorityArn: ca.arn, keyAlgorithm: "RSA_2048" },
      { ...parent, dependsOn: [activation, renewal] },
    );
    this.certificateArn = certificate.arn;
    this.caCertificatePem = root.certificate;
    this.registerOutputs({ hostname: this.hostname, certificateArn: this.certificateArn });
  }
}
