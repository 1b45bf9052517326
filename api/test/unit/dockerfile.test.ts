import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { DockerfileParser } from "dockerfile-ast";

const apiDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dockerfile = DockerfileParser.parse(await readFile(join(apiDir, "Dockerfile"), "utf8"));
const instructions = dockerfile.getInstructions();
const runs = instructions.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? "");

describe("the api image (api/Dockerfile)", () => {
  it("builds in one stage and runs from a second, both on Node 22 LTS", () => {
    const froms = dockerfile.getFROMs();
    expect(froms.map((f) => f.getBuildStage())).toEqual(["build", "runtime"]);
    const version = dockerfile.getARGs().find((a) => a.getProperty()?.getName() === "NODE_VERSION");
    expect(version?.getProperty()?.getValue()).toMatch(/^22\.\d+\.\d+$/);
    for (const from of froms) expect(from.getImageName()).toBe("node");
  });

  it("installs from the lockfile and deploys a production-only tree for the api", () => {
    expect(runs.some((r) => r.includes("pnpm install --frozen-lockfile"))).toBe(true);
    expect(runs.some((r) => /pnpm --filter @gplay\/api deploy --prod/.test(r))).toBe(true);
    const fromBuild = dockerfile
      .getCOPYs()
      .filter((c) => c.getFlags().some((f) => f.getName() === "from" && f.getValue() === "build"))
      .map((c) => c.getArguments().map((a) => a.getValue()));
    expect(fromBuild).toEqual([["/out", "/app"]]);
  });

  it("runs as the unprivileged node user", () => {
    const user = instructions
      .filter((i) => i.getKeyword() === "USER")
      .at(-1)
      ?.getArguments()[0]
      ?.getValue();
    expect(user).toBe("node");
  });

  it("declares a HEALTHCHECK on /healthz and runs node as PID 1 (exec form) so SIGTERM drains", () => {
    const checks = dockerfile.getHEALTHCHECKs();
    expect(checks).toHaveLength(1);
    expect(checks[0]?.getArgumentsContent()).toContain("/healthz");
    const cmd = dockerfile.getCMDs().at(-1);
    expect(cmd?.getJSONStrings().map((s) => s.getJSONValue())).toEqual(["node", "dist/main.js"]);
    expect(instructions.find((i) => i.getKeyword() === "STOPSIGNAL")?.getArgumentsContent()).toBe("SIGTERM");
  });

  it("bakes in no secret and keeps env files out of the build context", async () => {
    for (const env of dockerfile.getENVs())
      for (const p of env.getProperties()) expect(p.getName()).not.toMatch(/KEY|SECRET|TOKEN|PASSWORD/i);
    const ignore = await readFile(join(apiDir, "Dockerfile.dockerignore"), "utf8");
    expect(ignore.split("\n")).toEqual(expect.arrayContaining([".env*", "**/node_modules", ".local"]));
  });
});
