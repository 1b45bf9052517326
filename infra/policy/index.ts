import { PolicyPack } from "@pulumi/policy";
import { resourcePolicies, stackPolicy } from "./policies.js";

/** `pulumi preview --policy-pack infra/policy` (docs/deploy.md). */
new PolicyPack("gplay-platform", { policies: [...resourcePolicies, stackPolicy] });
