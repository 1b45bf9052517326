/**
 * The public edge of the API as data: TLS listener policy and the AWS WAF web ACL rules. Pure: the
 * ApiService component turns these into resources, the invariants check the recorded resources
 * against the same constants.
 */

/** TLS 1.3 with TLS 1.2 fallback, no legacy ciphers (the ALB's recommended policy). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** ALB security policies the invariants accept on an HTTPS listener (TLS 1.2 minimum). */
export const ACCEPTED_TLS_POLICIES: readonly string[] = [
  TLS_POLICY,
  "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
  "ELBSecurityPolicy-TLS13-1-3-2021-06",
];

/**
 * AWS managed rule groups on the public ALB: the core rule set (OWASP-style injections, bad
 * bots), known bad inputs (Log4Shell and friends) and Amazon's IP reputation list.
 */
export const WAF_MANAGED_RULE_GROUPS = [
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesAmazonIpReputationList",
] as const;

/** Name of the rate-based rule (requests per client IP over five minutes, then blocked). */
export const WAF_RATE_RULE = "rate-per-ip";

export interface WafVisibility {
  cloudwatchMetricsEnabled: boolean;
  metricName: string;
  sampledRequestsEnabled: boolean;
}

export interface WafRule {
  name: string;
  priority: number;
  overrideAction?: { none: Record<string, never> };
  action?: { block: Record<string, never> };
  statement: {
    managedRuleGroupStatement?: { vendorName: "AWS"; name: string };
    rateBasedStatement?: { limit: number; aggregateKeyType: "IP"; evaluationWindowSec: number };
  };
  visibilityConfig: WafVisibility;
}

const visibility = (metricName: string): WafVisibility => ({
  cloudwatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

/**
 * The web ACL's rules: the rate limit first (cheapest, stops floods before the managed groups run),
 * then each managed group with its own actions (`overrideAction: none` keeps their blocks).
 */
export function webAclRules(args: { metricPrefix: string; ratePerFiveMinutes: number }): WafRule[] {
  if (!Number.isInteger(args.ratePerFiveMinutes) || args.ratePerFiveMinutes < 10)
    throw new RangeError(`WAF rate limit must be an integer >= 10, got ${args.ratePerFiveMinutes}`);
  return [
    {
      name: WAF_RATE_RULE,
      priority: 0,
      action: { block: {} },
      statement: {
        rateBasedStatement: {
          limit: args.ratePerFiveMinutes,
          aggregateKeyType: "IP",
          evaluationWindowSec: 300,
        },
      },
      visibilityConfig: visibility(`${args.metricPrefix}-${WAF_RATE_RULE}`),
    },
    ...WAF_MANAGED_RULE_GROUPS.map(
      (name, i): WafRule => ({
        name,
        priority: i + 1,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: "AWS", name } },
        visibilityConfig: visibility(`${args.metricPrefix}-${name}`),
      }),
    ),
  ];
}

/** The whole ACL's metrics. */
export const webAclVisibility = (metricPrefix: string): WafVisibility => visibility(metricPrefix);
