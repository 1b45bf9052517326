import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { webAclRules, webAclVisibility } from "../plan/edge.js";

export interface WebFirewallArgs {
  /** The load balancer the web ACL protects. */
  loadBalancerArn: pulumi.Input<string>;
  /** Prefix of the CloudWatch metric names of the ACL and its rules. */
  metricPrefix: string;
  /** Requests per client IP per five minutes before the rate-based rule blocks it. */
  ratePerFiveMinutes: number;
}

/**
 * AWS WAF in front of the public API load balancer: a rate-based rule per client IP and AWS's
 * managed rule groups (plan/edge.ts), everything else allowed, metrics and samples on.
 */
export class WebFirewall extends pulumi.ComponentResource {
  readonly webAcl: aws.wafv2.WebAcl;

  constructor(name: string, args: WebFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:api:WebFirewall", name, {}, opts);
    const parent = { parent: this };

    // The web ACL (regional: it protects an ALB).
    this.webAcl = new aws.wafv2.WebAcl(
      `${name}-acl`,
      {
        scope: "REGIONAL",
        description: "Public API: rate limit per IP and AWS managed rule groups",
        defaultAction: { allow: {} },
        rules: webAclRules({ metricPrefix: args.metricPrefix, ratePerFiveMinutes: args.ratePerFiveMinutes }),
        visibilityConfig: webAclVisibility(args.metricPrefix),
      },
      parent,
    );
    // Attaches the ACL to the load balancer.
    new aws.wafv2.WebAclAssociation(
      `${name}-association`,
      { resourceArn: args.loadBalancerArn, webAclArn: this.webAcl.arn },
      parent,
    );
    this.registerOutputs({ webAclArn: this.webAcl.arn });
  }
}
