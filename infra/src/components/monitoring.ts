import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type AlarmContext, alarmSpecs, dashboardBody } from "../plan/alarms.js";
import { onlineWidgets } from "../plan/online-dashboard.js";

export interface MonitoringArgs {
  region: string;
  /** Name of the dashboard and prefix of every alarm name. */
  name: string;
  alarmEmail?: string;
  context: AlarmContext<pulumi.Input<string>>;
}

/**
 * Alarms on common's METRICS and on the platform (ECS CPU/memory, DLQ depth, ALB 5xx), an SNS
 * topic they notify, and one dashboard.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarmNames: string[];

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:monitoring:Monitoring", name, {}, opts);
    const parent = { parent: this };

    // Alarm notifications. Not KMS-encrypted: CloudWatch cannot publish to a topic under the
    // AWS-managed SNS key, and alarm messages carry no data.
    this.topic = new aws.sns.Topic(`${name}-alarms`, {}, parent);
    if (args.alarmEmail !== undefined) {
      // On-call mailbox (confirm the subscription e-mail once).
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.alarmEmail },
        parent,
      );
    }

    const specs = alarmSpecs(args.context);
    this.alarmNames = specs.map((spec) => {
      const alarmName = `${args.name}-${spec.id}`;
      // One alarm (the list is in plan/alarms.ts).
      new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.id}`,
        {
          name: alarmName,
          alarmDescription: spec.description,
          namespace: spec.namespace,
          metricName: spec.metricName,
          dimensions: spec.dimensions,
          ...(spec.statistic !== undefined && { statistic: spec.statistic }),
          ...(spec.extendedStatistic !== undefined && { extendedStatistic: spec.extendedStatistic }),
          period: spec.period,
          evaluationPeriods: spec.evaluationPeriods,
          threshold: spec.threshold,
          comparisonOperator: spec.comparisonOperator,
          treatMissingData: spec.treatMissingData,
          alarmActions: [this.topic.arn],
          okActions: [this.topic.arn],
        },
        parent,
      );
      return alarmName;
    });

    // One dashboard with a graph per alarm, then the online loop's figures per version and arm.
    const body = dashboardBody(args.region, specs);
    const online = onlineWidgets(args.region, args.context.environment, Math.ceil(specs.length / 2) * 6);
    new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: args.name,
        dashboardBody: pulumi.jsonStringify({ widgets: [...body.widgets, ...online] }),
      },
      parent,
    );
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
