import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type AlarmContext, alarmSpecs, dashboardBody } from "../plan/alarms.js";
import { doc } from "../plan/iam.js";
import { onlineWidgets } from "../plan/online-dashboard.js";
import { TASK_FAILED_ALERT, taskFailedPattern } from "../plan/operations.js";
import { RETRY_POLICY } from "./pipelines.js";

export interface MonitoringArgs {
  region: string;
  /** Name of the dashboard and prefix of every alarm name. */
  name: string;
  alarmEmail?: string;
  context: AlarmContext<pulumi.Input<string>>;
  /** The platform key: the topic is encrypted with it (its policy lets alarms and rules use it). */
  keyArn: pulumi.Input<string>;
  /** Tasks of this cluster that stop after failing are announced on the topic. */
  clusterArn: pulumi.Input<string>;
  /** Physical name of the alert rule (`<prefix>-task-failed`, covered by the DLQ's policy). */
  taskFailedRuleName: string;
  /** Where the alert goes when SNS keeps refusing it. */
  dlqArn: pulumi.Input<string>;
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

    // Alarm notifications, encrypted with the platform key (whose policy lets CloudWatch alarms and
    // EventBridge rules of this account use it: the AWS-managed SNS key would refuse them).
    this.topic = new aws.sns.Topic(`${name}-alarms`, { kmsMasterKeyId: args.keyArn }, parent);
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

    // A task of the cluster stopped after failing (out of memory, killed, image pull, secret fetch):
    // the DLQ only sees RunTask calls that fail, this sees tasks that die after starting.
    const taskFailed = new aws.cloudwatch.EventRule(
      `${name}-task-failed`,
      {
        name: args.taskFailedRuleName,
        description: "An ECS task stopped after failing: alert",
        eventPattern: pulumi.output(args.clusterArn).apply((c) => JSON.stringify(taskFailedPattern(c))),
      },
      parent,
    );
    // Sends a readable alert to the alarm topic.
    new aws.cloudwatch.EventTarget(
      `${name}-task-failed`,
      {
        rule: taskFailed.name,
        arn: this.topic.arn,
        inputTransformer: {
          inputPaths: TASK_FAILED_ALERT.inputPathsMap,
          inputTemplate: TASK_FAILED_ALERT.inputTemplate,
        },
        retryPolicy: RETRY_POLICY,
        deadLetterConfig: { arn: args.dlqArn },
      },
      parent,
    );
    // CloudWatch alarms and the alert rule (of this account) may publish to the topic.
    new aws.sns.TopicPolicy(
      `${name}-alarms`,
      {
        arn: this.topic.arn,
        policy: pulumi.all([this.topic.arn, taskFailed.arn]).apply(([topicArn, ruleArn]) =>
          JSON.stringify(
            doc(
              {
                Sid: "AlarmsPublish",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: ["sns:Publish"],
                Resource: [topicArn],
                Condition: { StringEquals: { "aws:SourceAccount": topicArn.split(":")[4] ?? "" } },
              },
              {
                Sid: "TaskFailedRulePublishes",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: ["sns:Publish"],
                Resource: [topicArn],
                Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
              },
            ),
          ),
        ),
      },
      parent,
    );

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
