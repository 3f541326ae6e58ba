// mocha's configuration: every test file on two workers (the machine's two cores). The files that take longest run
// first: a worker picks the next file when it finishes one, so a long file started last would leave the other
// worker idle while it runs (about 15 s of the suite's time on two cores). The rest in name order.
const fs = require("fs");
const path = require("path");

const ROOT = __dirname;
/** Longest first (seconds on two cores, measured): the ordering replay (35), the policies offline (25), the chart (18), the cluster (15), the owners' git repositories (11). */
const SLOW_FIRST = ["test/service/ordering.test.ts", "test/scripts/plan-policies.test.ts", "test/service/chart.test.ts", "test/platform/cluster.test.ts", "test/scripts/owners.test.ts"];

function testFiles(dir) {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const file = `${dir}/${e.name}`;
        return e.isDirectory() ? testFiles(file) : e.name.endsWith(".test.ts") ? [file] : [];
    });
}

const all = testFiles("test").sort();
module.exports = {
    require: ["ts-node/register/transpile-only"],
    spec: [...SLOW_FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !SLOW_FIRST.includes(f))],
    extension: ["ts"],
    timeout: 60000,
    parallel: true,
    jobs: 2,
};
