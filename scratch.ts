import { diffStack } from "./scripts/diff";
import { stackConfigFromText } from "./scripts/stack-file";
import * as fs from "fs";
const base = stackConfigFromText(fs.readFileSync("./Pulumi.staging.yaml","utf8"), "x");
const head = JSON.parse(JSON.stringify(base));
head.services.catalog.image = "docker.io/someone/catalog";
head.services.payments.env.LOG_LEVEL = "trace";
head.services.checkout.canary = { tag: "1.5.0", env: { FEATURE: "on", DB: {secure: "v1:abc"} } };
for (const d of diffStack("staging", base, head)) { console.log(d.ok ? d.line : "REFUSED " + d.line); d.fields.forEach(f => console.log("  " + f)); }
const h2 = JSON.parse(JSON.stringify(base));
h2.services.catalog.canary = { tag: "2.3.1", env: { LOG_LEVEL: "trace" } }; h2.services.catalog.stage = 2;
h2.services.payments.stage = 1;
for (const d of diffStack("staging", base, h2)) { console.log(d.ok ? d.line : "REFUSED " + d.line); d.fields.forEach(f => console.log("  " + f)); }
