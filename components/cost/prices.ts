// The price table of the cost estimate (components/cost/cost.ts). Plain data: change a number here and the
// estimate, `npm run plan` and README's table follow.
//
// Region:    us-east-1 (N. Virginia). Other regions cost roughly 0–25% more; the estimate does not adjust.
// Prices as: AWS public on-demand list prices, Linux, shared tenancy, USD, taken from the AWS pricing pages
//            (EC2 on-demand, EKS, VPC/NAT gateway, Elastic Load Balancing, EBS, public IPv4) as of 2026-06.
//            They have not changed since these instance types launched; re-check before relying on them.
// Addons:    cluster addons (observability) add the node capacity their CPU/memory requests need, priced pro rata:
//            the larger of their CPU and memory share of one node of the first pool (INSTANCE_CAPACITY) times that
//            node's price. Node groups do not grow by themselves (no autoscaler): the estimate is the capacity to
//            add to desiredSize when the nodes are full, not a bill that changes on its own.
// Spot:      there is no list price for spot. SPOT_DISCOUNT is an assumption: 65% off on-demand, the
//            usual range for t3/t3a/t2/m5/m6i spot in us-east-1 is 60–75% off, with no guarantee.

/** Region the prices are for. */
export const PRICE_REGION = "us-east-1";
/** When the prices were taken (year-month). */
export const PRICES_AS_OF = "2026-06";
/** Hours billed per month: AWS's own convention (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;
/** Assumed spot discount off the on-demand price (0.65 = spot costs 35% of on-demand). An assumption, not a price. */
export const SPOT_DISCOUNT = 0.65;

/** USD per hour, on-demand, Linux, us-east-1, per instance type. x86_64 only: node groups run AL2023 x86_64. */
export const INSTANCE_HOURLY_USD: Readonly<Record<string, number>> = {
    // burstable
    "t2.medium": 0.0464,
    "t2.large": 0.0928,
    "t3.small": 0.0208,
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "t3.xlarge": 0.1664,
    "t3a.small": 0.0188,
    "t3a.medium": 0.0376,
    "t3a.large": 0.0752,
    "t3a.xlarge": 0.1504,
    // general purpose
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
    "m5a.large": 0.086,
    "m5a.xlarge": 0.172,
    "m6a.large": 0.0864,
    "m6a.xlarge": 0.1728,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "m7i.large": 0.1008,
    "m7i.xlarge": 0.2016,
    "m7i.2xlarge": 0.4032,
    // compute optimised
    "c5.large": 0.085,
    "c5.xlarge": 0.17,
    "c6i.large": 0.085,
    "c6i.xlarge": 0.17,
    // memory optimised
    "r5.large": 0.126,
    "r5.xlarge": 0.252,
    "r6i.large": 0.126,
    "r6i.xlarge": 0.252,
};

/**
 * vCPUs and memory (GiB) of each instance type above, from the EC2 instance type pages: what a node offers, used
 * to price the share of a node that cluster addons (observability) reserve with their requests.
 */
export const INSTANCE_CAPACITY: Readonly<Record<string, { vcpu: number; memoryGiB: number }>> = {
    "t2.medium": { vcpu: 2, memoryGiB: 4 },
    "t2.large": { vcpu: 2, memoryGiB: 8 },
    "t3.small": { vcpu: 2, memoryGiB: 2 },
    "t3.medium": { vcpu: 2, memoryGiB: 4 },
    "t3.large": { vcpu: 2, memoryGiB: 8 },
    "t3.xlarge": { vcpu: 4, memoryGiB: 16 },
    "t3a.small": { vcpu: 2, memoryGiB: 2 },
    "t3a.medium": { vcpu: 2, memoryGiB: 4 },
    "t3a.large": { vcpu: 2, memoryGiB: 8 },
    "t3a.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m5.large": { vcpu: 2, memoryGiB: 8 },
    "m5.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m5.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "m5a.large": { vcpu: 2, memoryGiB: 8 },
    "m5a.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m6a.large": { vcpu: 2, memoryGiB: 8 },
    "m6a.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m6i.large": { vcpu: 2, memoryGiB: 8 },
    "m6i.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m6i.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "m7i.large": { vcpu: 2, memoryGiB: 8 },
    "m7i.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m7i.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "c5.large": { vcpu: 2, memoryGiB: 4 },
    "c5.xlarge": { vcpu: 4, memoryGiB: 8 },
    "c6i.large": { vcpu: 2, memoryGiB: 4 },
    "c6i.xlarge": { vcpu: 4, memoryGiB: 8 },
    "r5.large": { vcpu: 2, memoryGiB: 16 },
    "r5.xlarge": { vcpu: 4, memoryGiB: 32 },
    "r6i.large": { vcpu: 2, memoryGiB: 16 },
    "r6i.xlarge": { vcpu: 4, memoryGiB: 32 },
};

/** EKS control plane, standard support, USD per cluster-hour. (Extended support adds $0.50: keep versions current.) */
export const EKS_CONTROL_PLANE_HOURLY_USD = 0.1;
/** NAT gateway, USD per gateway-hour. Data processed ($0.045/GB) is usage and not estimated. */
export const NAT_GATEWAY_HOURLY_USD = 0.045;
/** Network Load Balancer, USD per hour. LCU usage ($0.006/LCU-hour) is not estimated. */
export const NLB_HOURLY_USD = 0.0225;
/** Public IPv4 address (nodes in public subnets, NAT gateway EIPs, internet-facing NLB), USD per address-hour. */
export const PUBLIC_IPV4_HOURLY_USD = 0.005;
/** EBS gp3 volume, USD per GiB-month (node root disks, Prometheus's volume). Baseline IOPS/throughput are included. */
export const EBS_GP3_GB_MONTH_USD = 0.08;
/**
 * KMS customer-managed key, USD per key-month. Not estimated: requests ($0.03 per 10,000), and what yearly automatic
 * rotation adds as KMS prices it (the first and second rotations each add about $1 a month, from the second year on).
 */
export const KMS_KEY_MONTH_USD = 1;

