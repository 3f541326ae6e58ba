// mocha's configuration: every test file on two workers (the machine's two cores). The files that take longest run
// first: a worker picks the next file when it finishes one, so a long file started last would leave the other
// worker idle while it runs (about 15 s of the suite's time on two cores). The rest in name order.
const fs = require("fs");
const path = require("path");

const ROOT = __dirname;
/** Longest first (seconds on two cores, measured): the policies offline (20), the ordering replay (16), the chart (16), the owners' git repositories (11), the previews (9). */
const SLOW_FIRST = ["test/scripts/plan-policies.test.ts", "test/service/ordering.test.ts", "test/service/chart.test.ts", "test/scripts/owners.test.ts", "test/service/previews.test.ts"];

function testFiles(dir) {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const file = `${dir}/${e.name}`;
        return e.isDirectory() ? testFiles(file) : e.name.endsWith(".test.ts") ? [file] : [];
    });
}

const all = testFiles("test").sort();
module.exports = {
    // ts-node first; then the Pulumi SDK's own promise traces kept out of source mapping (test/helpers/pulumi-stacks.js).
    require: ["ts-node/register/transpile-only", "./test/helpers/pulumi-stacks.js"],
    spec: [...SLOW_FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !SLOW_FIRST.includes(f))],
    extension: ["ts"],
    timeout: 60000,
    parallel: true,
    jobs: 2,
};
