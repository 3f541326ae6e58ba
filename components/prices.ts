// The price table of the cost estimate (components/cost.ts). Plain data: change a number here and the
// estimate, `npm run plan` and README's table follow.
//
// Region:    us-east-1 (N. Virginia). Other regions cost roughly 0–25% more; the estimate does not adjust.
// Prices as: AWS public on-demand list prices, Linux, shared tenancy, USD, taken from the AWS pricing pages
//            (EC2 on-demand, EKS, VPC/NAT gateway, Elastic Load Balancing, EBS, public IPv4) as of 2026-06.
//            They have not changed since these instance types launched; re-check before relying on them.
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

/** EKS control plane, standard support, USD per cluster-hour. (Extended support adds $0.50: keep versions current.) */
export const EKS_CONTROL_PLANE_HOURLY_USD = 0.1;
/** NAT gateway, USD per gateway-hour. Data processed ($0.045/GB) is usage and not estimated. */
export const NAT_GATEWAY_HOURLY_USD = 0.045;
/** Network Load Balancer, USD per hour. LCU usage ($0.006/LCU-hour) is not estimated. */
export const NLB_HOURLY_USD = 0.0225;
/** Public IPv4 address (nodes in public subnets, NAT gateway EIPs, internet-facing NLB), USD per address-hour. */
export const PUBLIC_IPV4_HOURLY_USD = 0.005;
/** EBS gp3 volume, USD per GiB-month (node root disks). */
export const EBS_GP3_GB_MONTH_USD = 0.08;

/** Instance types the table knows, for error messages. */
export function pricedInstanceTypes(): string[] {
    return Object.keys(INSTANCE_HOURLY_USD);
}
