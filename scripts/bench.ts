// `npm run bench`: the speed and size goals of stagehand, measured (not asserted in tests, where timing
// would be flaky). Prints one row per goal with the measurement and whether it is met; exits 1 if any is not.
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { parseStackConfig } from "../components/config";
import { parseServices } from "../components/service/config";
import { stagePlans } from "../components/service/stages";
import { chartValues } from "../components/service/values";
import { parseCommandLine } from "./args";
import { helmTemplate } from "./helm";
import { formatPlan } from "./plan";
import { projectRoot } from "./stack-file";

interface Goal {
    name: string;
    unit: string;
    limit: number;
    measure: () => number | Promise<number>;
}

/** Median of `runs` timings of `fn`, in milliseconds. */
async function median(runs: number, fn: () => unknown): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
        const start = performance.now();
        await fn();
        times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
}

function services(count: number): Record<string, unknown> {
    return Object.fromEntries(
        Array.from({ length: count }, (_, i) => [
            `svc-${i}`,
            { image: `ghcr.io/acme/svc-${i}`, stable: "1.0.0", canary: "1.1.0", stage: 1 + (i % 6), replicas: 2 + (i % 5), testRoutes: i % 3 === 0 ? [{ header: "x-canary", exact: "true" }] : [] },
        ]),
    );
}

function dirSize(dir: string): number {
    return fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => {
        const p = path.join(dir, e.name);
        return sum + (e.isDirectory() ? dirSize(p) : fs.statSync(p).size);
    }, 0);
}

const chart = path.join(projectRoot, "charts", "service");

const goals: Goal[] = [
    {
        name: "validate + plan 500 services (npm run plan's work)",
        unit: "ms",
        limit: 500,
        measure: () => median(5, () => formatPlan("bench", parseStackConfig("bench", { services: services(500) }).planned)),
    },
    {
        name: "stage plans of 10,000 services (every stage)",
        unit: "ms",
        limit: 1000,
        measure: () => {
            const parsed = Object.values(parseServices("bench", services(100)));
            return median(3, () => {
                for (let i = 0; i < 100; i++) for (const s of parsed) stagePlans(s);
            });
        },
    },
    {
        name: "helm template of the reference chart, one stage",
        unit: "ms",
        limit: 500,
        measure: () => {
            const svc = parseServices("bench", { checkout: { image: "ghcr.io/acme/checkout", stable: "1", canary: "2", stage: 2, replicas: 3 } }).checkout;
            const plan = stagePlans(svc)[1];
            return median(5, () => helmTemplate(chart, { releaseName: "checkout", namespace: "checkout", values: chartValues("checkout", svc, plan) }));
        },
    },
    {
        name: "reference chart size (what every release uploads)",
        unit: "KiB",
        limit: 128,
        measure: () => dirSize(chart) / 1024,
    },
];

const USAGE = "usage: npm run bench (no arguments: it measures every goal)";

export async function main(argv: string[], log: (line: string) => void = console.log): Promise<number> {
    try {
        if (parseCommandLine(argv, { options: {}, positionals: { min: 0, max: 0, names: "no arguments" }, usage: USAGE }).help) {
            log(USAGE);
            return 0;
        }
    } catch (e: any) {
        console.error(`bench: ${e.message}`);
        return 2;
    }
    let failed = 0;
    log(`${"goal".padEnd(56)} ${"measured".padStart(10)} ${"limit".padStart(8)}  result`);
    for (const goal of goals) {
        const value = await goal.measure();
        const ok = value <= goal.limit;
        if (!ok) failed++;
        log(`${goal.name.padEnd(56)} ${`${value.toFixed(1)} ${goal.unit}`.padStart(10)} ${`${goal.limit} ${goal.unit}`.padStart(8)}  ${ok ? "met" : "MISSED"}`);
    }
    return failed === 0 ? 0 : 1;
}

if (require.main === module) main(process.argv.slice(2)).then((code) => process.exit(code));
