/**
 * Local runs use production's Node: scripts/bootstrap.sh installs the services' image version
 * (api/Dockerfile's NODE_VERSION) from the npm package node-linux-<arch> when the system's Node is of
 * an older major, and scripts/test.sh and scripts/demo.sh source it. These fail when the tests run on
 * another major (e.g. `pnpm test` on a system Node 20 without the bootstrap).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";

const repoRoot = join(import.meta.dirname, "../../..");
const production = /^ARG NODE_VERSION=(\S+)$/m.exec(
  readFileSync(join(repoRoot, "api/Dockerfile"), "utf8"),
)?.[1];
const major = (version: string) => version.replace(/^v/, "").split(".")[0];

describe("the local Node", () => {
  it("is production's major in every test process", () => {
    expect(production).toMatch(/^22\.\d+\.\d+$/);
    expect(major(process.versions.node)).toBe(major(production as string));
  });

  it("is what a shell gets after sourcing the bootstrap, with the project's pnpm", () => {
    const out = execFileSync(
      "bash",
      ["-c", "source scripts/bootstrap.sh >/dev/null 2>&1 && node --version && command -v pnpm"],
      { cwd: repoRoot, encoding: "utf8", timeout: 300_000 },
    ).split("\n");
    expect(major(out[0] as string)).toBe(major(production as string));
    expect(out[1]).toBe(join(repoRoot, ".local/tools/node_modules/.bin/pnpm"));
  }, 300_000);
});
