import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ENGINE_NODE_OPTIONS } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { DockerfileParser } from "dockerfile-ast";

const repoRoot = join(import.meta.dirname, "../../..");

/** The Node services' images: built the same way, run the same way; only their role differs. */
const SERVICES = [
  { workspace: "featstore-engine", healthcheck: undefined, tfjsNode: false },
  { workspace: "training", healthcheck: undefined, tfjsNode: true },
  { workspace: "api", healthcheck: "/healthz", tfjsNode: false },
] as const;

function parse(workspace: string) {
  const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, workspace, "Dockerfile"), "utf8"));
  const instructions = dockerfile.getInstructions();
  const runs = instructions.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? "");
  return { dockerfile, instructions, runs };
}

describe.each(SERVICES)("the $workspace image", ({ workspace, healthcheck, tfjsNode }) => {
  const { dockerfile, instructions, runs } = parse(workspace);

  it("builds in one stage and runs from a second, both on Node 22 LTS", () => {
    const froms = dockerfile.getFROMs();
    expect(froms.map((f) => f.getBuildStage())).toEqual(["build", "runtime"]);
    const version = dockerfile.getARGs().find((a) => a.getProperty()?.getName() === "NODE_VERSION");
    expect(version?.getProperty()?.getValue()).toMatch(/^22\.\d+\.\d+$/);
    for (const from of froms) expect(from.getImageName()).toBe("node");
  });

  it("installs from the lockfile and deploys the production bundle with the shared deploy script", () => {
    expect(runs).toContain("npm install -g pnpm@12.4.2");
    expect(runs).toContain("pnpm install --frozen-lockfile");
    const deploy = runs.find((r) => r.startsWith("bash scripts/ci/deploy-bundle.sh"));
    expect(deploy).toBe(
      `bash scripts/ci/deploy-bundle.sh ${workspace} /out${tfjsNode ? " --with-tfjs-node" : ""}`,
    );
    const fromBuild = dockerfile
      .getCOPYs()
      .filter((c) => c.getFlags().some((f) => f.getName() === "from" && f.getValue() === "build"))
      .map((c) => c.getArguments().map((a) => a.getValue()));
    expect(fromBuild).toEqual([["/out", "/app"]]);
  });

  it("runs node dist/main.js in exec form as the unprivileged node user", () => {
    const user = instructions
      .filter((i) => i.getKeyword() === "USER")
      .at(-1)
      ?.getArguments()[0]
      ?.getValue();
    expect(user).toBe("node");
    const cmd = dockerfile.getCMDs().at(-1);
    expect(cmd?.getJSONStrings().map((s) => s.getJSONValue())).toEqual(["node", "dist/main.js"]);
  });

  it(
    healthcheck === undefined
      ? "is a batch task without a healthcheck"
      : `checks ${healthcheck} and drains on SIGTERM`,
    () => {
      const checks = dockerfile.getHEALTHCHECKs();
      if (healthcheck === undefined) expect(checks).toHaveLength(0);
      else {
        expect(checks).toHaveLength(1);
        expect(checks[0]?.getArgumentsContent()).toContain(healthcheck);
        expect(instructions.find((i) => i.getKeyword() === "STOPSIGNAL")?.getArgumentsContent()).toBe(
          "SIGTERM",
        );
      }
    },
  );

  it("bakes in no secret", () => {
    for (const env of dockerfile.getENVs())
      for (const p of env.getProperties()) expect(p.getName()).not.toMatch(/KEY|SECRET|TOKEN|PASSWORD/i);
    expect(dockerfile.getARGs().map((a) => a.getProperty()?.getName() ?? "")).not.toContainEqual(
      expect.stringMatching(/KEY|SECRET|TOKEN|PASSWORD/i),
    );
  });
});

describe("the featstore-engine image", () => {
  it("runs the engine under the heap settings its ECS task sets (common's ENGINE_NODE_OPTIONS)", () => {
    const { dockerfile } = parse("featstore-engine");
    const runtime = dockerfile
      .getENVs()
      .filter((e) => e.getRange().start.line > (dockerfile.getFROMs()[1]?.getRange().start.line ?? 0));
    const nodeOptions = runtime.flatMap((e) => e.getProperties()).find((p) => p.getName() === "NODE_OPTIONS");
    expect(nodeOptions?.getValue()).toBe(ENGINE_NODE_OPTIONS);
  });
});

describe("the build context", () => {
  it("keeps local state, build output and env files out of every image", () => {
    const ignore = readFileSync(join(repoRoot, ".dockerignore"), "utf8").split("\n");
    expect(ignore).toEqual(expect.arrayContaining([".env*", "**/node_modules", "**/dist", ".local", ".git"]));
  });
});
