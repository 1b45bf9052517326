import { IMAGE_DIGEST_PATTERN } from "../plan/config.js";
import { resourceNames, WORKLOADS } from "../plan/names.js";
import type { Invariant } from "./core.js";
import { asArray, json, ofType, T } from "./resources.js";

/**
 * Build once, promote the digest: tags cannot be moved to another image, and prod runs exactly the
 * image digests CI built, scanned and ran in dev (nothing is built during a prod deployment).
 */
export const DELIVERY_INVARIANTS: Invariant[] = [
  {
    id: "ecr-immutable-digests",
    description:
      "every ECR repository has immutable tags; prod builds no image and each task runs <its repository>@sha256:<digest>",
    check: (rs, ctx) => {
      const out = ofType(rs, T.repository)
        .filter((r) => r.inputs.imageTagMutability !== "IMMUTABLE")
        .map((r) => `${r.inputs.name}: tags are mutable`);
      if (ctx.environment !== "prod") return out;
      if (ofType(rs, T.image).length > 0) out.push("prod builds images instead of deploying CI's digests");
      const names = resourceNames(ctx.prefix);
      for (const w of WORKLOADS) {
        const td = ofType(rs, T.taskDefinition).find((t) => t.inputs.family === names.family[w]);
        const repo = ofType(rs, T.repository).find((r) => r.inputs.name === names.repository[w]);
        const image = asArray(json(td?.inputs.containerDefinitions) as { image?: string }[] | undefined)[0]
          ?.image;
        const [uri, digest] = typeof image === "string" ? image.split("@") : [];
        const repoUrl = repo?.inputs.repositoryUrl;
        if (
          digest === undefined ||
          !IMAGE_DIGEST_PATTERN.test(digest) ||
          (typeof repoUrl === "string" && uri !== repoUrl)
        )
          out.push(`${w}: prod image ${image} is not ${names.repository[w]}@sha256:<digest>`);
      }
      return out;
    },
  },
];
