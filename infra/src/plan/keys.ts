import { doc, type PolicyDocument } from "./iam.js";

/**
 * The platform key's policy. The account administers the key through IAM (the default statement);
 * CloudWatch Logs may use it for this account's log groups (they are encrypted with it), and
 * CloudWatch alarms and EventBridge rules of this account may use it to publish to the encrypted
 * alarm topic. Pure.
 */
export function platformKeyPolicy(accountId: string, region: string): PolicyDocument {
  return doc(
    {
      Sid: "AccountAdministersThroughIam",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${accountId}:root` },
      Action: ["kms:*"],
      Resource: ["*"],
    },
    {
      Sid: "LogGroupsOfThisAccount",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      Resource: ["*"],
      Condition: {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${accountId}:log-group:*` },
      },
    },
    {
      Sid: "AlarmsAndRulesPublishToTheTopic",
      Effect: "Allow",
      Principal: { Service: ["cloudwatch.amazonaws.com", "events.amazonaws.com"] },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: ["*"],
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
  );
}
