import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { DockerfileParser } from "dockerfile-ast";

const mlflowDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dockerfile = DockerfileParser.parse(await readFile(join(mlflowDir, "Dockerfile"), "utf8"));
const instructions = dockerfile.getInstructions();

/** An instruction's arguments with ARG/ENV variables expanded, as one string. */
const expanded = (i: (typeof instructions)[number]) =>
  i
    .getExpandedArguments()
    .map((a) => a.getValue())
    .join(" ");

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL|ACCESS_KEY|API_KEY)/i;

describe("the MLflow server image (mlflow/Dockerfile)", () => {
  it("pins MLflow 3.17.2 and installs the PostgreSQL driver", () => {
    const arg = dockerfile.getARGs().find((a) => a.getProperty()?.getName() === "MLFLOW_VERSION");
    expect(arg?.getProperty()?.getValue()).toBe("3.17.2");
    const installs = instructions.filter((i) => i.getKeyword() === "RUN").map(expanded);
    const pip = installs.find((cmd) => cmd.includes("pip install"));
    expect(pip).toBeDefined();
    expect(pip).toMatch(/"?mlflow(\[auth\])?==3\.17\.2"?/);
    expect(pip).toMatch(/psycopg2-binary==[0-9.]+/);
  });

  it("runs as a non-root user created in the image", () => {
    const users = instructions.filter((i) => i.getKeyword() === "USER");
    const last = users.at(-1);
    expect(last).toBeDefined();
    const user = last?.getArguments()[0]?.getValue() ?? "";
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const created = instructions
      .filter((i) => i.getKeyword() === "RUN")
      .map(expanded)
      .some((cmd) => new RegExp(`useradd[^&]*\\b${user.split(":")[0]}\\b`).test(cmd));
    expect(created).toBe(true);
  });

  it("declares a HEALTHCHECK that calls the server's /health check script", () => {
    const checks = dockerfile.getHEALTHCHECKs();
    expect(checks).toHaveLength(1);
    const check = checks[0];
    expect(check?.getSubcommand()?.getValue()).toBe("CMD");
    const flags = Object.fromEntries(check?.getFlags().map((f) => [f.getName(), f.getValue()]) ?? []);
    expect(flags).toEqual(
      expect.objectContaining({ interval: expect.any(String), timeout: expect.any(String) }),
    );
    expect(check?.getArgumentsContent()).toContain("/app/healthcheck.py");
    const copied = dockerfile.getCOPYs().map((c) => c.getArguments().map((a) => a.getValue()));
    expect(copied).toContainEqual(["mlflow/server/healthcheck.py", "/app/healthcheck.py"]);
  });

  it("ships the database-user bootstrap the platform's rotation task runs (python /app/bootstrap_db.py)", () => {
    const copied = dockerfile.getCOPYs().map((c) => c.getArguments().map((a) => a.getValue()));
    expect(copied).toContainEqual(["mlflow/server/bootstrap_db.py", "/app/bootstrap_db.py"]);
  });

  it("has the local stack's entrypoint script as its ENTRYPOINT", async () => {
    const entrypoints = dockerfile.getENTRYPOINTs();
    expect(entrypoints).toHaveLength(1);
    expect(entrypoints[0]?.getJSONStrings().map((s) => s.getJSONValue())).toEqual(["/app/entrypoint.sh"]);
    const copied = dockerfile.getCOPYs().map((c) => c.getArguments().map((a) => a.getValue()));
    expect(copied).toContainEqual(["mlflow/server/entrypoint.sh", "/app/entrypoint.sh"]);
    const script = await stat(join(mlflowDir, "server", "entrypoint.sh"));
    expect(script.mode & 0o111).not.toBe(0);
  });

  it("bakes in no secret: no secret-named ARG/ENV, no credentials in values, no env files copied", () => {
    const properties = [
      ...dockerfile.getARGs().flatMap((a) => {
        const p = a.getProperty();
        return p === null ? [] : [p];
      }),
      ...dockerfile.getENVs().flatMap((e) => e.getProperties()),
    ];
    expect(properties.length).toBeGreaterThan(0);
    for (const p of properties) {
      expect(p.getName()).not.toMatch(SECRET_NAME);
      expect(p.getValue() ?? "").not.toMatch(/:\/\/[^/\s:@]+:[^/\s@]+@/);
    }
    for (const i of instructions) {
      expect(i.getArgumentsContent() ?? "").not.toMatch(/:\/\/[^/\s:@$]+:[^/\s@]+@|AKIA[0-9A-Z]{16}/);
    }
    for (const copy of [...dockerfile.getCOPYs(), ...instructions.filter((i) => i.getKeyword() === "ADD")]) {
      for (const arg of copy.getArguments()) expect(arg.getValue()).not.toMatch(/\.env|\.ini$|\.pem$|id_rsa/);
    }
  });
});
