/**
 * Address plan of the VPC: small public subnets (load balancers, NAT gateways) and large private
 * subnets (tasks, database, endpoints), one of each per availability zone. Pure.
 */
export interface SubnetPlan {
  public: string[];
  private: string[];
}

function ipToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new RangeError(`not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** Parses `a.b.c.d/n`, rejecting host bits set. */
export function parseCidr(cidr: string): { base: number; bits: number } {
  const [ip, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (ip === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32)
    throw new RangeError(`not a CIDR: ${cidr}`);
  const base = ipToInt(ip);
  if (base % 2 ** (32 - bits) !== 0) throw new RangeError(`host bits set in ${cidr}`);
  return { base, bits };
}

/** The `index`-th subnet of `newBits` prefix length inside `cidr`. */
export function subnetOf(cidr: string, newBits: number, index: number): string {
  const { base, bits } = parseCidr(cidr);
  if (newBits < bits) throw new RangeError(`/${newBits} does not fit in ${cidr}`);
  const count = 2 ** (newBits - bits);
  if (index < 0 || index >= count) throw new RangeError(`subnet ${index} of /${newBits} is outside ${cidr}`);
  return `${intToIp(base + index * 2 ** (32 - newBits))}/${newBits}`;
}

/** Whether `inner` lies entirely inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return (
    i.bits >= o.bits && Math.floor(i.base / 2 ** (32 - o.bits)) === Math.floor(o.base / 2 ** (32 - o.bits))
  );
}

/**
 * For a /16 VPC: public subnets are /24s at the start (10.x.0.0/24, 10.x.1.0/24, …), private
 * subnets are /20s from the second /20 on (10.x.16.0/20, 10.x.32.0/20, …): 4,091 task IPs per AZ.
 */
export function planSubnets(vpcCidr: string, azCount: number): SubnetPlan {
  const { bits } = parseCidr(vpcCidr);
  if (bits !== 16) throw new RangeError(`the VPC must be a /16, got ${vpcCidr}`);
  if (!Number.isInteger(azCount) || azCount < 1 || azCount > 3)
    throw new RangeError(`azCount must be 1–3, got ${azCount}`);
  const azs = Array.from({ length: azCount }, (_, i) => i);
  return {
    public: azs.map((i) => subnetOf(vpcCidr, 24, i)),
    private: azs.map((i) => subnetOf(vpcCidr, 20, i + 1)),
  };
}

export function endpointServiceName(region: string, service: string): string {
  return `com.amazonaws.${region}.${service}`;
}
