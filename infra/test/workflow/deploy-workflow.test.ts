import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "@jest/globals";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const workflowPath = join(root, ".github/workflows/deploy.yml");
const workflow = readFileSync(workflowPath, "utf8");

/** Job name → its block of lines (jobs are the two-space keys under `jobs:`). */
function jobs(text: string): Map<string, string> {
  const lines = text.slice(text.indexOf("\njobs:\n") + 7).split("\n");
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of lines) {
    const m = /^ {2}([\w-]+):\s*$/.exec(line);
    if (m?.[1] !== undefined) {
      current = m[1];
      out.set(current, "");
    } else if (current !== undefined) out.set(current, `${out.get(current)}${line}\n`);
  }
  return out;
}

/** actionlint from PATH or GOPATH/bin, if present on this machine. */
function findActionlint(): string | undefined {
  const onPath = spawnSync("sh", ["-c", "command -v actionlint"], { encoding: "utf8" }).stdout.trim();
  if (onPath !== "") return onPath;
  const goPath = spawnSync("go", ["env", "GOPATH"], { encoding: "utf8" });
  const candidates = [
    goPath.status === 0 ? join(goPath.stdout.trim(), "bin/actionlint") : "",
    join(homedir(), "go/bin/actionlint"),
  ];
  return candidates.find((c) => c !== "" && existsSync(c));
}

describe("deploy workflow", () => {
  test("every action is pinned by a full commit SHA", () => {
    const uses = [...workflow.matchAll(/uses:\s*([^\s#]+)/g)].map((m) => m[1] as string);
    expect(uses.length).toBeGreaterThan(5);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  test("every job is time-limited", () => {
    const all = jobs(workflow);
    expect([...all.keys()]).toEqual(["checks", "preview", "deploy-dev", "deploy-prod"]);
    for (const [name, block] of all)
      expect([name, /^ {4}timeout-minutes: \d+$/m.test(block)]).toEqual([name, true]);
  });

  test("AWS access is OIDC only, per GitHub environment", () => {
    expect(workflow).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    const all = jobs(workflow);
    for (const name of ["preview", "deploy-dev", "deploy-prod"]) {
      expect(all.get(name)).toMatch(/id-token: write/);
      expect(all.get(name)).toMatch(/role-to-assume: \$\{\{ vars\.AWS_(PREVIEW|DEPLOY)_ROLE_ARN \}\}/);
      expect(all.get(name)).toMatch(/environment:/);
    }
    expect(workflow).toMatch(/^permissions:\n {2}contents: read$/m);
  });

  test("previews with the policy pack on pull requests; deploys dev then prod on main with a /healthz smoke test", () => {
    const all = jobs(workflow);
    expect(all.get("preview")).toMatch(/if: github\.event_name == 'pull_request'/);
    expect(all.get("preview")).toMatch(/pulumi preview --stack "\$STACK" --policy-pack policy/);
    expect(all.get("deploy-dev")).toMatch(/pulumi up --stack dev --policy-pack policy/);
    expect(all.get("deploy-prod")).toMatch(/needs: deploy-dev/);
    expect(all.get("deploy-prod")).toMatch(/pulumi up --stack prod --policy-pack policy/);
    for (const name of ["deploy-dev", "deploy-prod"])
      expect(all.get(name)).toMatch(/curl --fail .*"\$HEALTH_URL"/);
  });

  test("actionlint reports no problems (when actionlint is installed; CI always installs it)", () => {
    const bin = findActionlint();
    const result =
      bin === undefined
        ? { status: 0, output: "actionlint not installed here: run infra/scripts/actionlint.sh" }
        : (() => {
            try {
              return {
                status: 0,
                output: execFileSync(bin, [workflowPath], { cwd: root, encoding: "utf8" }),
              };
            } catch (e) {
              const err = e as { status: number; stdout: string };
              return { status: err.status, output: err.stdout };
            }
          })();
    expect(result).toEqual({ status: 0, output: expect.any(String) });
  });
});
