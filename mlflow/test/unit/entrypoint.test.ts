/**
 * The entrypoint's configuration logic, with a stand-in `mlflow` on PATH that prints what it was
 * given (the real server runs in test/integration/production-shape.test.ts).
 */
import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";

const entrypoint = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "server", "entrypoint.sh");
let bin: string;

/** A stand-in `mlflow` that prints its arguments and the environment the entrypoint gave it. */
const FAKE_MLFLOW =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash script; ${…} are bash's expansions.
  '#!/usr/bin/env bash\nprintf "ARG %s\\n" "$@"\necho "AUTH_CONFIG=${MLFLOW_AUTH_CONFIG_PATH:-}"\necho "ALLOWED=${MLFLOW_SERVER_ALLOWED_HOSTS}"\n';

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), "gplay-entrypoint-"));
  await writeFile(join(bin, "mlflow"), FAKE_MLFLOW);
  await chmod(join(bin, "mlflow"), 0o755);
});
afterAll(() => rm(bin, { recursive: true, force: true }));

function runEntrypoint(env: Record<string, string>) {
  const result = spawnSync("bash", [entrypoint], {
    env: { PATH: `${bin}:${process.env.PATH ?? ""}`, TMPDIR: bin, ...env },
    encoding: "utf8",
  });
  const args = result.stdout
    .split("\n")
    .filter((l) => l.startsWith("ARG "))
    .map((l) => l.slice(4));
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  const line = (name: string) =>
    result.stdout
      .split("\n")
      .find((l) => l.startsWith(`${name}=`))
      ?.slice(name.length + 1);
  return { status: result.status, stderr: result.stderr, args, value, line };
}

const artifacts = { MLFLOW_ARTIFACTS_DESTINATION: "s3://gplay-dev-models/mlflow/" };

describe("mlflow/server/entrypoint.sh", () => {
  it("runs the local shape: SQLite, proxied artifacts, one worker, no auth app", () => {
    const r = runEntrypoint({
      MLFLOW_BACKEND_STORE_URI: "sqlite:////tmp/x.db",
      ...artifacts,
      MLFLOW_PORT: "5123",
    });
    expect(r.status).toBe(0);
    expect(r.value("--backend-store-uri")).toBe("sqlite:////tmp/x.db");
    expect(r.args).toContain("--serve-artifacts");
    expect(r.value("--workers")).toBe("1");
    expect(r.args).not.toContain("--app-name");
    expect(r.line("ALLOWED")).toBe("localhost,127.0.0.1,localhost:5123,127.0.0.1:5123");
  });

  it("builds the PostgreSQL URI from parts with the password URL-encoded", () => {
    const r = runEntrypoint({
      ...artifacts,
      MLFLOW_DB_HOST: "db.internal",
      MLFLOW_DB_USER: "mlflow",
      MLFLOW_DB_PASSWORD: "p@ss:w/rd%1#",
      MLFLOW_DB_SSLMODE: "require",
      MLFLOW_WORKERS: "3",
    });
    expect(r.status).toBe(0);
    expect(r.value("--backend-store-uri")).toBe(
      "postgresql+psycopg2://mlflow:p%40ss%3Aw%2Frd%251%23@db.internal:5432/mlflow?sslmode=require",
    );
    expect(r.value("--workers")).toBe("3");
  });

  it("turns on the basic-auth app with its users in the backend database, the ini escaped and private", async () => {
    const r = runEntrypoint({
      ...artifacts,
      MLFLOW_DB_HOST: "db.internal",
      MLFLOW_DB_USER: "mlflow",
      MLFLOW_DB_PASSWORD: "a%b",
      MLFLOW_AUTH_ENABLED: "true",
      MLFLOW_AUTH_ADMIN_PASSWORD: "admin-secret",
      MLFLOW_FLASK_SERVER_SECRET_KEY: "k",
    });
    expect(r.status).toBe(0);
    expect(r.value("--app-name")).toBe("basic-auth");
    const iniPath = r.line("AUTH_CONFIG") ?? "";
    const ini = await readFile(iniPath, "utf8");
    // configparser reads %% as %: the URI round-trips to ...a%25b...
    expect(ini).toContain("database_uri = postgresql+psycopg2://mlflow:a%%25b@db.internal:5432/mlflow\n");
    expect(ini).toContain("default_permission = NO_PERMISSIONS\n");
    expect(ini).not.toContain("admin-secret");
    const mode = spawnSync("stat", ["-c", "%a", iniPath], { encoding: "utf8" }).stdout.trim();
    expect(mode).toBe("600");
  });

  it.each([
    [{ MLFLOW_AUTH_ENABLED: "true", MLFLOW_FLASK_SERVER_SECRET_KEY: "k" }, /MLFLOW_AUTH_ADMIN_PASSWORD/],
    [{ MLFLOW_AUTH_ENABLED: "true", MLFLOW_AUTH_ADMIN_PASSWORD: "x" }, /MLFLOW_FLASK_SERVER_SECRET_KEY/],
    [{ MLFLOW_AUTH_ENABLED: "maybe" }, /must be true or false/],
    [{ MLFLOW_DB_HOST: "db", MLFLOW_DB_USER: "u" }, /MLFLOW_DB_PASSWORD/],
  ])("refuses to start when misconfigured (%j)", (env, message) => {
    const base: Record<string, string> =
      "MLFLOW_DB_HOST" in env ? {} : { MLFLOW_BACKEND_STORE_URI: "sqlite:////tmp/x.db" };
    const r = runEntrypoint({ ...base, ...artifacts, ...env });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.args).toEqual([]);
  });
});
