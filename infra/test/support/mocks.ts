import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { RecordedResource } from "../../src/invariants/resources.js";

/**
 * Pulumi mocks for the program tests: every registered resource is recorded (type, name, id and
 * its state: a fake ARN, then the inputs, then a few provider-computed outputs the program reads);
 * every invoke other than the few expected ones throws.
 */
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const AZS = ["us-east-1a", "us-east-1b", "us-east-1c"];

export const recorder: { resources: RecordedResource[]; calls: string[] } = { resources: [], calls: [] };

function physicalName(args: pulumi.runtime.MockResourceArgs): string {
  const i = args.inputs;
  return String(i.name ?? i.bucket ?? i.family ?? args.name);
}

function fakeArn(args: pulumi.runtime.MockResourceArgs): string {
  const n = physicalName(args);
  switch (args.type) {
    case "aws:s3/bucket:Bucket":
      return `arn:aws:s3:::${n}`;
    case "aws:ecs/taskDefinition:TaskDefinition":
      return `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${n}:1`;
    case "aws:dynamodb/table:Table":
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${n}`;
    case "aws:iam/role:Role":
      return `arn:aws:iam::${ACCOUNT}:role/${n}`;
    case "aws:iam/policy:Policy":
      return `arn:aws:iam::${ACCOUNT}:policy/${n}`;
    case "aws:cloudwatch/logGroup:LogGroup":
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`;
    case "aws:ecr/repository:Repository":
      return `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${n}`;
    case "aws:cloudwatch/eventRule:EventRule":
      return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${n}`;
    case "aws:sqs/queue:Queue":
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${n}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${n}`;
    case "aws:ecs/service:Service":
      return `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${String(args.inputs.cluster ?? "cluster")
        .split("/")
        .pop()}/${n}`;
    case "aws:secretsmanager/secret:Secret":
      // Secrets Manager appends six random characters to the name.
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}-AbCdEf`;
    default: {
      const [, module = "x", kind = "x"] = args.type.split(":");
      return `arn:aws:${module.split("/")[0]}:${REGION}:${ACCOUNT}:${kind.toLowerCase()}/${n}`;
    }
  }
}

let caPem: string | undefined;
/** A self-signed CA certificate made once per test process with openssl (nothing committed). */
function mockCaPem(): string {
  if (caPem !== undefined) return caPem;
  const dir = mkdtempSync(join(tmpdir(), "gplay-mock-ca-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "ca.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=gplay mock internal root CA",
      ],
      { stdio: "ignore" },
    );
    caPem = readFileSync(join(dir, "ca.pem"), "utf8");
    return caPem;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Outputs AWS computes that the program reads. */
function computed(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const n = physicalName(args);
  switch (args.type) {
    case "aws:ecr/repository:Repository":
      return { repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${n}` };
    case "aws:rds/instance:Instance":
      return {
        address: `${args.name}.abc.${REGION}.rds.amazonaws.com`,
        masterUserSecrets: [
          {
            secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-${args.name}`,
            secretStatus: "active",
          },
        ],
      };
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        dnsName: `${args.name}.${REGION}.elb.amazonaws.com`,
        arnSuffix: `app/${args.name}/1`,
        zoneId: "Z35SXDOTRQ7X7K",
      };
    case "aws:lb/targetGroup:TargetGroup":
      return { arnSuffix: `targetgroup/${args.name}/1` };
    case "aws:sqs/queue:Queue":
      return { url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${n}` };
    case "aws:kms/key:Key":
      return { keyId: `${args.name}-key-id` };
    case "aws:acm/certificate:Certificate":
      return {
        domainValidationOptions: [
          {
            domainName: args.inputs.domainName,
            resourceRecordName: `_x1.${args.inputs.domainName}.`,
            resourceRecordType: "CNAME",
            resourceRecordValue: "_x2.acm-validations.aws.",
          },
        ],
      };
    case "aws:route53/record:Record":
      return { fqdn: String(args.inputs.name) };
    case "aws:route53/zone:Zone":
      return { zoneId: `Z${args.name.replace(/[^a-z0-9]/gi, "").toUpperCase()}` };
    case "aws:acmpca/certificateAuthority:CertificateAuthority":
      return {
        certificateSigningRequest:
          "-----BEGIN CERTIFICATE REQUEST-----\nMOCK\n-----END CERTIFICATE REQUEST-----\n",
      };
    case "aws:acmpca/certificate:Certificate":
      // A real self-signed certificate: the services' env schemas parse the CA they are given.
      return { certificate: mockCaPem(), certificateChain: "" };
    case "awsx:ecr:Image":
      return { imageUri: `${args.inputs.repositoryUrl}@sha256:${"0".repeat(64)}` };
    default:
      return {};
  }
}

export const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    const id = args.type === "aws:s3/bucket:Bucket" ? String(args.inputs.bucket) : `${args.name}-id`;
    // The fake ARN goes first so an input named `arn` (an event target's cluster) is not overwritten.
    const state = { arn: fakeArn(args), ...args.inputs, ...computed(args) };
    recorder.resources.push({ type: args.type, name: args.name, id, inputs: state });
    return { id, state };
  },
  call(args) {
    recorder.calls.push(args.token);
    switch (args.token) {
      case "aws:index/getAvailabilityZones:getAvailabilityZones":
        return { names: AZS, zoneIds: ["use1-az1", "use1-az2", "use1-az4"], id: REGION };
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: "AIDA", id: ACCOUNT };
      default:
        throw new Error(`unexpected invoke ${args.token} ${JSON.stringify(args.inputs)}`);
    }
  },
};

/** Waits until every collected resource has been registered (its URN resolved). */
export async function settle(resources: pulumi.Resource[]): Promise<void> {
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await Promise.all(resources.map((r) => new Promise((res) => r.urn.apply(res))));
    await new Promise((res) => setImmediate(res));
  }
}
