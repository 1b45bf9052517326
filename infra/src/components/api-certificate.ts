import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ApiCertificateArgs {
  /** The API's public name (the certificate covers exactly this name). */
  domain: string;
  /** Route 53 zone that holds `domain`: ACM's validation records go there. */
  hostedZoneId: string;
}

/**
 * An ACM certificate for the API's name, validated by DNS in the configured hosted zone. Its
 * `certificateArn` resolves only once ACM has issued it, so the HTTPS listener never points at a
 * pending certificate.
 */
export class ApiCertificate extends pulumi.ComponentResource {
  readonly certificateArn: pulumi.Output<string>;

  constructor(name: string, args: ApiCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:api:ApiCertificate", name, {}, opts);
    const parent = { parent: this };

    // The certificate (Pulumi creates a replacement before deleting the old one, so the listener
    // always has one).
    const certificate = new aws.acm.Certificate(
      `${name}-cert`,
      { domainName: args.domain, validationMethod: "DNS", keyAlgorithm: "RSA_2048" },
      parent,
    );
    // ACM's validation record (one per name; the certificate covers one name).
    const record = new aws.route53.Record(
      `${name}-cert-validation`,
      {
        zoneId: args.hostedZoneId,
        name: certificate.domainValidationOptions.apply((o) => o[0]?.resourceRecordName ?? ""),
        type: certificate.domainValidationOptions.apply((o) => o[0]?.resourceRecordType ?? "CNAME"),
        records: [certificate.domainValidationOptions.apply((o) => o[0]?.resourceRecordValue ?? "")],
        ttl: 300,
        allowOverwrite: true,
      },
      parent,
    );
    // Waits until ACM has issued the certificate.
    const validation = new aws.acm.CertificateValidation(
      `${name}-cert`,
      { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
      parent,
    );
    this.certificateArn = validation.certificateArn;
    this.registerOutputs({ certificateArn: this.certificateArn });
  }
}
