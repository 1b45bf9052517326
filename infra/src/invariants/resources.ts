/**
 * A resource as a check sees it: its type token, logical name and input properties. The mock tests
 * record these from `setMocks`; the policy pack builds them from `PolicyResource`s. Pure.
 */
export interface RecordedResource {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON-like data.
  inputs: Record<string, any>;
  /** The physical id, when known (mocks return one; a preview may not). */
  id?: string;
}

export const T = {
  kmsKey: "aws:kms/key:Key",
  bucket: "aws:s3/bucket:Bucket",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  notification: "aws:s3/bucketNotification:BucketNotification",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  queue: "aws:sqs/queue:Queue",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  repository: "aws:ecr/repository:Repository",
  image: "awsx:ecr:Image",
  cluster: "aws:ecs/cluster:Cluster",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  listener: "aws:lb/listener:Listener",
  scalingTarget: "aws:appautoscaling/target:Target",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  db: "aws:rds/instance:Instance",
  dbSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  table: "aws:dynamodb/table:Table",
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  routeTable: "aws:ec2/routeTable:RouteTable",
  endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  natGateway: "aws:ec2/natGateway:NatGateway",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  secret: "aws:secretsmanager/secret:Secret",
  certificate: "aws:acm/certificate:Certificate",
  certificateValidation: "aws:acm/certificateValidation:CertificateValidation",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
  policy: "aws:iam/policy:Policy",
  oidcProvider: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  kmsAlias: "aws:kms/alias:Alias",
  topic: "aws:sns/topic:Topic",
  ssmDocument: "aws:ssm/document:Document",
  trail: "aws:cloudtrail/trail:Trail",
  flowLog: "aws:ec2/flowLog:FlowLog",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  zone: "aws:route53/zone:Zone",
  record: "aws:route53/record:Record",
  privateCa: "aws:acmpca/certificateAuthority:CertificateAuthority",
  privateCaCertificate: "aws:acmpca/certificateAuthorityCertificate:CertificateAuthorityCertificate",
  privateCaPermission: "aws:acmpca/permission:Permission",
} as const;

export const ofType = (resources: readonly RecordedResource[], type: string) =>
  resources.filter((r) => r.type === type);

/** Parses a JSON string input (policies, patterns, container definitions); objects pass through. */
export function json(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Whether `child` belongs to `owner`: it references the owner's id, or is named `${owner}-…`. */
export function belongsTo(child: RecordedResource, owner: RecordedResource, property: string): boolean {
  const ref = child.inputs[property];
  if (owner.id !== undefined && ref === owner.id) return true;
  return child.name.startsWith(`${owner.name}-`);
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Deep equality of JSON-like values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}
