// Test-only: the Pulumi SDK records a stack trace on every promise it makes (runtime/debuggable.js, for its leak
// report), and under ts-node each trace is mapped through source maps frame by frame (@cspotcode/source-map-support),
// which was a third of the CPU time of the mock-heavy tests. Those traces are never shown by a test, so they are
// formatted plainly; every other error keeps its source-mapped trace. Loaded by .mocharc.js after ts-node.
const mapped = Error.prepareStackTrace;
if (typeof mapped === "function") {
    Error.prepareStackTrace = function (error, frames) {
        const first = frames[0] && frames[0].getFileName();
        if (first && first.endsWith("@pulumi/pulumi/runtime/debuggable.js")) return `${error}\n${frames.map((f) => `    at ${f}`).join("\n")}`;
        return mapped(error, frames);
    };
}
