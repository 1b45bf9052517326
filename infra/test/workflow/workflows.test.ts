import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "@jest/globals";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const workflowsDir = join(root, ".github/workflows");
const WORKFLOWS = readdirSync(workflowsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const read = (file: string) => readFileSync(join(workflowsDir, file), "utf8");
const deploy = read("deploy.yml");
const ci = read("ci.yml");

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
const job = (text: string, name: string) => {
  const block = jobs(text).get(name);
  if (block === undefined) throw new Error(`no job ${name}`);
  return block;
};

/** The `run:` scripts of a job (inline or block), in order. */
function runs(block: string): string[] {
  const out: string[] = [];
  const lines = block.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:- )?run: ?(.*)$/.exec(lines[i] as string);
    if (m === null) continue;
    if (m[2] !== "|" && m[2] !== "") {
      out.push(m[2] as string);
      continue;
    }
    const indent = (m[1] as string).length;
    const body: string[] = [];
    while (
      i + 1 < lines.length &&
      (/^\s*$/.test(lines[i + 1] as string) || (lines[i + 1] as string).search(/\S/) > indent)
    )
      body.push(lines[++i] as string);
    out.push(body.join("\n"));
  }
  return out;
}

/** Runs infra/scripts/actionlint.sh (installs actionlint v1.7.12 if needed); never skips. */
function actionlint(args: string[]) {
  const r = spawnSync("bash", [join(root, "infra/scripts/actionlint.sh"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 280_000,
  });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`, error: r.error?.message };
}

describe("every workflow", () => {
  test.each(WORKFLOWS)("%s: every action is pinned by a full commit SHA", (file) => {
    const uses = [...read(file).matchAll(/uses:\s*([^\s#]+)/g)].map((m) => m[1] as string);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  test.each(WORKFLOWS)("%s: every job is time-limited", (file) => {
    for (const [name, block] of jobs(read(file)))
      expect([name, /^ {4}timeout-minutes: \d+$/m.test(block)]).toEqual([name, true]);
  });

  test.each(WORKFLOWS)("%s: pnpm is called only where it is on PATH", (file) => {
    for (const [name, block] of jobs(read(file))) {
      const setup = /uses: pnpm\/action-setup@/.test(block);
      for (const script of runs(block).filter((s) => /(^|[\s;&|(])pnpm\s/.test(s))) {
        const sourced = /source scripts\/bootstrap\.sh[\s\S]*\bpnpm\s/.test(script);
        expect([name, script.trim(), setup || sourced]).toEqual([name, script.trim(), true]);
      }
    }
  });

  test("actionlint v1.7.12 is installed (or found) and reports no problems in any workflow", () => {
    const version = actionlint(["-version"]);
    expect(version).toMatchObject({ status: 0, output: expect.stringMatching(/^v1\.7\.12\n/) });
    const lint = actionlint(["-verbose", "-no-color"]);
    expect(lint.output).toContain(`Linting ${WORKFLOWS.length} files`);
    for (const file of WORKFLOWS) expect(lint.output).toContain(`Linting .github/workflows/${file}`);
    expect(lint.output).toContain(`Found 0 errors in ${WORKFLOWS.length} files`);
    expect(lint.status).toBe(0);
  }, 300_000);

  test("the lint really runs: a broken workflow fails it", () => {
    const dir = mkdtempSync(join(tmpdir(), "actionlint-"));
    const bad = join(dir, "bad.yml");
    writeFileSync(
      bad,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS template.
      "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n",
    );
    const r = actionlint(["-no-color", bad]);
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/property "nope" is not defined/);
  }, 300_000);
});

describe("ci workflow", () => {
  test("the conformance step puts pnpm on PATH before calling it", () => {
    const conformance = runs(job(ci, "test")).find((s) => s.includes("test:conformance"));
    expect(conformance).toMatch(
      /source scripts\/bootstrap\.sh\n\s*pnpm --silent test:conformance "\$G1_REAL_DIR"/,
    );
  });
});

describe("deploy workflow", () => {
  const all = jobs(deploy);

  test("jobs: checks, a dev preview for PRs, build once, dev, a prod preview, prod", () => {
    expect([...all.keys()]).toEqual([
      "checks",
      "preview-dev",
      "build",
      "deploy-dev",
      "preview-prod",
      "deploy-prod",
    ]);
    expect(job(deploy, "checks")).toMatch(/bash infra\/scripts\/actionlint\.sh/);
  });

  test("AWS access is OIDC only, each job with its own environment's role", () => {
    expect(deploy).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    expect(deploy).toMatch(/^permissions:\n {2}contents: read$/m);
    const expected: Record<string, [string, string]> = {
      "preview-dev": ["dev-preview", "AWS_PREVIEW_ROLE_ARN_DEV"],
      build: ["dev", "AWS_DEPLOY_ROLE_ARN_DEV"],
      "deploy-dev": ["dev", "AWS_DEPLOY_ROLE_ARN_DEV"],
      "preview-prod": ["prod-preview", "AWS_PREVIEW_ROLE_ARN_PROD"],
      "deploy-prod": ["prod", "AWS_DEPLOY_ROLE_ARN_PROD"],
    };
    for (const [name, [environment, role]] of Object.entries(expected)) {
      const block = job(deploy, name);
      expect([name, block]).toEqual([name, expect.stringMatching(/id-token: write/)]);
      expect([name, block]).toEqual([
        name,
        expect.stringMatching(new RegExp(`environment:(\\n\\s+name:)? ${environment}\\n`)),
      ]);
      const roles = [...block.matchAll(/role-to-assume: \$\{\{ vars\.(\w+) \}\}/g)].map((m) => m[1]);
      expect([name, roles]).toEqual([name, [role]]);
    }
  });

  test("a pull request reaches only the dev preview; prod jobs run on main only", () => {
    expect(job(deploy, "preview-dev")).toMatch(/if: github\.event_name == 'pull_request'/);
    expect(job(deploy, "preview-dev")).toMatch(/pulumi preview --stack dev --policy-pack policy/);
    expect(job(deploy, "build")).toMatch(
      /if: github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/,
    );
    expect(job(deploy, "preview-prod")).toMatch(/github\.ref == 'refs\/heads\/main'/);
    expect(job(deploy, "deploy-prod")).toMatch(/needs: preview-prod\n/);
    for (const name of ["preview-dev", "build", "deploy-dev"])
      expect(job(deploy, name)).not.toMatch(/_PROD\b/);
  });

  test("build once: only the build job builds; every deployment runs the recorded digests, previewed first", () => {
    const builders = [...all].filter(([, b]) => /docker build/.test(b)).map(([n]) => n);
    expect(builders).toEqual(["build"]);
    expect(job(deploy, "build")).toMatch(/aws ecr wait image-scan-complete/);
    expect(job(deploy, "build")).toMatch(/CRITICAL/);
    expect(job(deploy, "build")).toMatch(/digests: \$\{\{ steps\.push\.outputs\.digests \}\}/);
    expect(deploy).not.toMatch(/--skip-preview|gplay:buildImages=true|gplay:imageTag=/);
    for (const name of ["deploy-dev", "deploy-prod"]) {
      expect(job(deploy, name)).toMatch(
        /pulumi up --stack (dev|prod) --policy-pack policy .*\n.*--config "gplay:imageDigests=\$\{DIGESTS\}"/,
      );
      expect(job(deploy, name)).toMatch(/curl --fail .*"\$HEALTH_URL"/);
    }
    expect(job(deploy, "preview-prod")).toMatch(/pulumi preview --stack prod --policy-pack policy/);
    expect(job(deploy, "preview-prod")).toMatch(/GITHUB_STEP_SUMMARY/);
    // prod deploys the digests the prod preview showed, copied (not rebuilt) and verified.
    expect(job(deploy, "deploy-prod")).toMatch(/DIGESTS: \$\{\{ needs\.preview-prod\.outputs\.digests \}\}/);
    expect(job(deploy, "deploy-prod")).toMatch(/crane" copy .*@\$\{digest\}/);
    expect(job(deploy, "deploy-prod")).toMatch(/test "\$\("\$crane" digest "\$target"\)" = "\$digest"/);
    expect(job(deploy, "preview-prod")).toMatch(
      /DIGESTS: \$\{\{ needs\.build\.outputs\.digests \|\| inputs\.digests \}\}/,
    );
  });

  test("workflow_dispatch redeploys or rolls back an environment to given digests through the same gates", () => {
    expect(deploy).toMatch(
      /workflow_dispatch:\n {4}inputs:\n {6}environment:[\s\S]*options: \[dev, prod\][\s\S]*digests:/,
    );
    expect(job(deploy, "deploy-dev")).toMatch(
      /github\.event_name == 'workflow_dispatch' && inputs\.environment == 'dev'/,
    );
    expect(job(deploy, "preview-prod")).toMatch(
      /github\.event_name == 'workflow_dispatch' && inputs\.environment == 'prod'/,
    );
    for (const name of ["deploy-dev", "preview-prod", "deploy-prod"])
      expect(job(deploy, name)).toMatch(/bash infra\/scripts\/check-digests\.sh "\$DIGESTS"/);
  });

  test("check-digests.sh accepts one sha256 digest per workload and rejects anything else", () => {
    const check = (value: string) =>
      spawnSync("bash", [join(root, "infra/scripts/check-digests.sh"), value], {
        encoding: "utf8",
        timeout: 30_000,
      }).status;
    const good = { featstoreEngine: "1", training: "2", api: "3", mlflow: "4" };
    const digests = Object.fromEntries(Object.entries(good).map(([w, c]) => [w, `sha256:${c.repeat(64)}`]));
    expect(check(JSON.stringify(digests))).toBe(0);
    expect(check(JSON.stringify({ ...digests, api: "latest" }))).toBe(1);
    expect(check(JSON.stringify({ ...digests, extra: digests.api }))).toBe(1);
    expect(check("")).toBe(1);
  });
});
