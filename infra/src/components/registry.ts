import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { WORKLOADS, WORKSPACE_OF, type Workload } from "../plan/names.js";

export interface ContainerImagesArgs {
  repositoryNames: Record<Workload, string>;
  /** Build each image from `<repoRoot>/<workspace>/Dockerfile` (context = repo root) and push it. */
  buildImages: boolean;
  /** Tag of built images, and the tag deployed in dev when there are no digests. */
  imageTag: string;
  /** The image of each workload by digest (CI's build job): tasks run `<repo>@<digest>`. */
  imageDigests?: Record<Workload, string>;
  repoRoot: string;
  /** The platform key: images are encrypted with it. */
  keyArn: pulumi.Input<string>;
  forceDelete: boolean;
}

/** Keep the last 30 images of each repository; older ones cannot be rolled back to anyway. */
export const ECR_LIFECYCLE_POLICY = {
  rules: [
    {
      rulePriority: 1,
      description: "keep the last 30 images",
      selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 },
      action: { type: "expire" },
    },
  ],
};

/**
 * One ECR repository per workload, scanned on push, with immutable tags (a tag names one image
 * forever, so what was tested is what runs), and the image each task runs: `<repository>@<digest>`
 * from CI's build-once job, or built here by awsx when `buildImages` is on (pinned by digest), or in
 * dev `<repository>:<imageTag>`.
 */
export class ContainerImages extends pulumi.ComponentResource {
  readonly repositories: Record<Workload, aws.ecr.Repository>;
  readonly imageUris: Record<Workload, pulumi.Output<string>>;

  constructor(name: string, args: ContainerImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:registry:ContainerImages", name, {}, opts);
    const parent = { parent: this };
    const repositories = {} as Record<Workload, aws.ecr.Repository>;
    const imageUris = {} as Record<Workload, pulumi.Output<string>>;
    for (const workload of WORKLOADS) {
      const workspace = WORKSPACE_OF[workload];
      // The repository of one workload's image.
      const repo = new aws.ecr.Repository(
        `${name}-${workspace}`,
        {
          name: args.repositoryNames[workload],
          imageScanningConfiguration: { scanOnPush: true },
          imageTagMutability: "IMMUTABLE",
          // Encrypted with the platform key (changing it replaces the repository: push again).
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.keyArn }],
          forceDelete: args.forceDelete,
        },
        parent,
      );
      // Expire old images.
      new aws.ecr.LifecyclePolicy(
        `${name}-${workspace}`,
        { repository: repo.name, policy: JSON.stringify(ECR_LIFECYCLE_POLICY) },
        parent,
      );
      repositories[workload] = repo;
      const digest = args.imageDigests?.[workload];
      if (digest !== undefined) {
        imageUris[workload] = pulumi.interpolate`${repo.repositoryUrl}@${digest}`;
      } else if (args.buildImages) {
        // The image, built from the workspace's Dockerfile with the whole monorepo as context.
        const image = new awsx.ecr.Image(
          `${name}-${workspace}`,
          {
            repositoryUrl: repo.repositoryUrl,
            context: args.repoRoot,
            dockerfile: `${args.repoRoot}/${workspace}/Dockerfile`,
            platform: "linux/amd64",
            imageTag: args.imageTag,
          },
          parent,
        );
        imageUris[workload] = image.imageUri;
      } else {
        imageUris[workload] = pulumi.interpolate`${repo.repositoryUrl}:${args.imageTag}`;
      }
    }
    this.repositories = repositories;
    this.imageUris = imageUris;
    this.registerOutputs({
      repositoryUrls: Object.fromEntries(WORKLOADS.map((w) => [w, repositories[w].repositoryUrl])),
    });
  }
}
