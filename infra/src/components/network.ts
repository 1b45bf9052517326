import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_ENDPOINT_SERVICES, interfaceEndpointServices } from "../plan/aws-services.js";
import type { EgressMode } from "../plan/config.js";
import { endpointServiceName, planSubnets } from "../plan/network.js";

export interface NetworkArgs {
  cidr: string;
  azCount: number;
  egress: EgressMode;
  region: string;
}

/**
 * The VPC: public subnets hold only load balancers and NAT gateways; tasks and the database live in
 * private subnets with no public IPs. S3 and DynamoDB are reached through gateway endpoints; the rest
 * of AWS through NAT or interface endpoints, depending on `egress`.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: string;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:network:Network", name, {}, opts);
    const parent = { parent: this };
    const plan = planSubnets(args.cidr, args.azCount);
    this.cidr = args.cidr;

    const azs = aws.getAvailabilityZonesOutput({ state: "available" }, parent);
    const az = (i: number) => azs.names.apply((names) => names[i] as string);

    // The VPC, with DNS so interface endpoints and service names resolve privately.
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: args.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } },
      parent,
    );
    this.vpcId = vpc.id;

    // Internet gateway for the public subnets (ALB, NAT).
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: name } }, parent);

    // Public route table: default route to the internet gateway.
    const publicRt = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
        tags: { Name: `${name}-public` },
      },
      parent,
    );

    const publicSubnets = plan.public.map((cidr, i) => {
      // Public subnet i: no automatic public IPs; only the ALB and NAT live here.
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: az(i),
          mapPublicIpOnLaunch: false,
          tags: { Name: `${name}-public-${i}`, Tier: "public" },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i}`,
        { subnetId: subnet.id, routeTableId: publicRt.id },
        parent,
      );
      return subnet;
    });
    this.publicSubnetIds = publicSubnets.map((s) => s.id);

    // NAT gateways: one shared (dev) or one per AZ (prod), none with endpoint-only egress.
    const natCount = args.egress === "nat-per-az" ? args.azCount : args.egress === "nat-single" ? 1 : 0;
    const nats = publicSubnets.slice(0, natCount).map((publicSubnet, i) => {
      const eip = new aws.ec2.Eip(
        `${name}-nat-${i}`,
        { domain: "vpc", tags: { Name: `${name}-nat-${i}` } },
        parent,
      );
      return new aws.ec2.NatGateway(
        `${name}-nat-${i}`,
        {
          allocationId: eip.id,
          subnetId: publicSubnet.id,
          tags: { Name: `${name}-nat-${i}` },
        },
        { ...parent, dependsOn: [igw] },
      );
    });

    const privateRts: aws.ec2.RouteTable[] = [];
    const privateSubnets = plan.private.map((cidr, i) => {
      // Private subnet i: tasks, database and endpoint interfaces.
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: az(i),
          mapPublicIpOnLaunch: false,
          tags: { Name: `${name}-private-${i}`, Tier: "private" },
        },
        parent,
      );
      const nat = nats[i % Math.max(nats.length, 1)];
      // Private route table i: default route through the AZ's NAT when there is one.
      const rt = new aws.ec2.RouteTable(
        `${name}-private-rt-${i}`,
        {
          vpcId: vpc.id,
          routes: nat === undefined ? [] : [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
          tags: { Name: `${name}-private-${i}` },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${i}`,
        { subnetId: subnet.id, routeTableId: rt.id },
        parent,
      );
      privateRts.push(rt);
      return subnet;
    });
    this.privateSubnetIds = privateSubnets.map((s) => s.id);

    for (const service of GATEWAY_ENDPOINT_SERVICES) {
      // Gateway endpoint: lake and table traffic stays on the AWS network, at no cost.
      new aws.ec2.VpcEndpoint(
        `${name}-${service}`,
        {
          vpcId: vpc.id,
          serviceName: endpointServiceName(args.region, service),
          vpcEndpointType: "Gateway",
          routeTableIds: privateRts.map((rt) => rt.id),
          tags: { Name: `${name}-${service}` },
        },
        parent,
      );
    }

    if (args.egress === "endpoints") {
      // Endpoint interfaces accept HTTPS from inside the VPC only.
      const endpointSg = new aws.ec2.SecurityGroup(
        `${name}-endpoints`,
        {
          vpcId: vpc.id,
          description: "Interface endpoints: HTTPS from the VPC",
          ingress: [
            { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [args.cidr], description: "VPC" },
          ],
          egress: [],
          tags: { Name: `${name}-endpoints` },
        },
        parent,
      );
      for (const service of interfaceEndpointServices()) {
        // Interface endpoint of one service a task calls (plan/aws-services.ts): images, logs,
        // secrets, the engine's events, ECS Exec.
        new aws.ec2.VpcEndpoint(
          `${name}-${service.replace(".", "-")}`,
          {
            vpcId: vpc.id,
            serviceName: endpointServiceName(args.region, service),
            vpcEndpointType: "Interface",
            privateDnsEnabled: true,
            subnetIds: this.privateSubnetIds,
            securityGroupIds: [endpointSg.id],
            tags: { Name: `${name}-${service}` },
          },
          parent,
        );
      }
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
    });
  }
}
