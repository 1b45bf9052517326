import { METRIC_NAMESPACE, METRICS, type MetricKey } from "@gplay/common";

/**
 * Alarms and the dashboard as data. Application alarms read common's METRICS in METRIC_NAMESPACE
 * with the Service/Environment dimensions; platform alarms read AWS/ECS, AWS/SQS and AWS/ApplicationELB.
 */
export interface AlarmSpec<S = string> {
  id: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, S | string>;
  statistic?: "Sum" | "Average" | "Maximum";
  extendedStatistic?: string;
  period: number;
  evaluationPeriods: number;
  threshold: number;
  comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  treatMissingData: "notBreaching" | "missing";
}

/** Generic over the value type: plain strings in tests, `pulumi.Input<string>` in the program. */
export interface AlarmContext<S = string> {
  environment: string;
  clusterName: S;
  /** ECS service names (long-running). */
  services: { api: S; mlflow: S };
  dlqName: S;
  albArnSuffix: S;
  /** API p99 latency threshold, in milliseconds. */
  latencyP99Ms?: number;
}

const app = (key: MetricKey, environment: string) => ({
  namespace: METRIC_NAMESPACE,
  metricName: METRICS[key].name,
  dimensions: { Service: METRICS[key].service, Environment: environment },
});

export function alarmSpecs<S = string>(ctx: AlarmContext<S>): AlarmSpec<S>[] {
  const env = ctx.environment;
  const specs: AlarmSpec<S>[] = [
    {
      id: "api-5xx",
      description: "The API answered with 5xx responses.",
      ...app("api5xx", env),
      statistic: "Sum",
      period: 60,
      evaluationPeriods: 5,
      threshold: 5,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
    {
      id: "api-latency-p99",
      description: "API p99 server-side latency is above target.",
      ...app("apiLatency", env),
      extendedStatistic: "p99",
      period: 60,
      evaluationPeriods: 5,
      threshold: ctx.latencyP99Ms ?? 300,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
    {
      id: "ingestion-failures",
      description: "An ingestion of a raw file failed.",
      ...app("ingestFailures", env),
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
    {
      id: "training-failures",
      description: "A training run failed.",
      ...app("trainingFailures", env),
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
    {
      id: "events-dlq-depth",
      description:
        "Events that could not start a task are waiting in the dead-letter queue (see docs/deploy.md, DLQ redrive).",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: ctx.dlqName },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
    {
      id: "alb-target-5xx",
      description: "The public load balancer saw 5xx from API targets.",
      namespace: "AWS/ApplicationELB",
      metricName: "HTTPCode_Target_5XX_Count",
      dimensions: { LoadBalancer: ctx.albArnSuffix },
      statistic: "Sum",
      period: 60,
      evaluationPeriods: 5,
      threshold: 5,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
  ];
  for (const [service, name] of [
    ["api", ctx.services.api],
    ["mlflow", ctx.services.mlflow],
  ] as const) {
    for (const metric of ["CPUUtilization", "MemoryUtilization"] as const) {
      specs.push({
        id: `${service}-${metric === "CPUUtilization" ? "cpu" : "memory"}`,
        description: `${service} ${metric} above 85%.`,
        namespace: "AWS/ECS",
        metricName: metric,
        dimensions: { ClusterName: ctx.clusterName, ServiceName: name },
        statistic: "Average",
        period: 300,
        evaluationPeriods: 3,
        threshold: 85,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "missing",
      });
    }
  }
  return specs;
}

/** A CloudWatch dashboard body: one graph per alarm, in pairs. */
export function dashboardBody<S>(region: string, specs: readonly AlarmSpec<S>[]): { widgets: unknown[] } {
  return {
    widgets: specs.map((s, i) => ({
      type: "metric",
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      width: 12,
      height: 6,
      properties: {
        title: s.description,
        region,
        view: "timeSeries",
        stat: s.extendedStatistic ?? s.statistic,
        period: s.period,
        metrics: [[s.namespace, s.metricName, ...Object.entries(s.dimensions).flat()]],
        annotations: { horizontal: [{ label: "alarm", value: s.threshold }] },
      },
    })),
  };
}
