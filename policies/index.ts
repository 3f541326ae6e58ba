// The policy pack stagehand's previews run with: `pulumi preview --policy-pack policies
// --policy-pack-config policies/config.<stack>.json`. Constructing a PolicyPack starts the analyzer's gRPC
// server, so this file does nothing else; the rules live in ./rules/ (one file per domain), where the tests
// call them directly.
import { PolicyPack } from "@pulumi/policy";
import { rules } from "./rules";

new PolicyPack("stagehand", {
    description: "stagehand guardrails: a green preview cannot ship a known-dangerous change to traffic, images, releases, the mesh or the cluster.",
    // Every rule also carries its own level; a run without --policy-pack-config is as strict as prod.
    enforcementLevel: "mandatory",
    policies: rules,
});
