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
  '#!/usr/bin/env bash\nprintf "ARG %s\\n" "$@"\necho "AUTH_CONFIG=${MLFLOW_AUTH_CONFIG_PATH:-}"\necho "ALLOWED=${MLFLOW_SERVER_ALLOWED_HOSTS}"\necho "STORE=${MLFLOW_BACKEND_STORE_URI:-}"\necho "PGPASSWORD=${PGPASSWORD:-}"\nif [ -n "${MLFLOW_AUTH_CONFIG_PATH:-}" ]; then sed "s/^/INI /" "$MLFLOW_AUTH_CONFIG_PATH"; echo "INI_MODE=$(stat -c %a "$MLFLOW_AUTH_CONFIG_PATH")"; fi\n';

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
  const lines = (prefix: string) =>
    result.stdout
      .split("\n")
      .filter((l) => l.startsWith(prefix))
      .map((l) => l.slice(prefix.length));
  return { status: result.status, stderr: result.stderr, args, value, line, lines };
}

const artifacts = { MLFLOW_ARTIFACTS_DESTINATION: "s3://gplay-dev-models/mlflow/" };
/** PostgreSQL from parts, as in AWS (the password from the database secret). */
const postgres = (password: string, user = "mlflow") => ({
  ...artifacts,
  MLFLOW_DB_HOST: "db.internal",
  MLFLOW_DB_USER: user,
  MLFLOW_DB_PASSWORD: password,
});
/** The basic-auth app's two secrets. */
const auth = {
  MLFLOW_AUTH_ENABLED: "true",
  MLFLOW_AUTH_ADMIN_PASSWORD: "admin-secret",
  MLFLOW_FLASK_SERVER_SECRET_KEY: "k",
};

describe("mlflow/server/entrypoint.sh", () => {
  it("runs the local shape: SQLite, proxied artifacts, one worker, no auth app", () => {
    const r = runEntrypoint({
      MLFLOW_BACKEND_STORE_URI: "sqlite:////tmp/x.db",
      ...artifacts,
      MLFLOW_PORT: "5123",
    });
    expect(r.status).toBe(0);
    expect(r.line("STORE")).toBe("sqlite:////tmp/x.db");
    expect(r.args).toContain("--serve-artifacts");
    expect(r.value("--workers")).toBe("1");
    expect(r.args).not.toContain("--app-name");
    expect(r.line("ALLOWED")).toBe("localhost,127.0.0.1,localhost:5123,127.0.0.1:5123");
  });

  it("builds the PostgreSQL URI from parts (user URL-encoded), its password passed to libpq as PGPASSWORD", () => {
    const r = runEntrypoint({
      ...postgres("p@ss:w/rd%1#", "ml@flow"),
      MLFLOW_DB_SSLMODE: "require",
      MLFLOW_WORKERS: "3",
    });
    expect(r.status).toBe(0);
    expect(r.line("STORE")).toBe("postgresql+psycopg2://ml%40flow@db.internal:5432/mlflow?sslmode=require");
    expect(r.line("PGPASSWORD")).toBe("p@ss:w/rd%1#");
    expect(r.value("--workers")).toBe("3");
  });

  it("never puts the store URI (with the database password) on the server's command line", () => {
    const password = "s3cr3t-db-pass";
    const r = runEntrypoint(postgres(password));
    expect(r.status).toBe(0);
    expect(r.args).not.toContain("--backend-store-uri");
    expect(r.args.join(" ")).not.toContain(password);
    // `mlflow server` reads the store URI from its environment; the URI itself carries no password.
    expect(r.line("STORE")).toBe("postgresql+psycopg2://mlflow@db.internal:5432/mlflow");
    expect(r.line("PGPASSWORD")).toBe(password);
  });

  it("keeps the database password out of the auth ini and removes the ini when the server stops", async () => {
    const password = "s3cr3t-db-pass";
    const r = runEntrypoint({ ...postgres(password), ...auth });
    expect(r.status).toBe(0);
    const ini = r.lines("INI ");
    expect(ini).toContain("database_uri = postgresql+psycopg2://mlflow@db.internal:5432/mlflow");
    expect(ini.join("\n")).not.toContain(password);
    // libpq reads the password from PGPASSWORD (the auth app's connection carries none).
    expect(r.line("PGPASSWORD")).toBe(password);
    const iniPath = r.line("AUTH_CONFIG") ?? "";
    expect(iniPath).not.toBe("");
    await expect(readFile(iniPath, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("turns on the basic-auth app with its users in the backend database, the ini escaped and private", () => {
    const r = runEntrypoint({
      ...artifacts,
      MLFLOW_BACKEND_STORE_URI: "postgresql+psycopg2://mlflow@db.internal:5432/mlflow?application_name=a%b",
      ...auth,
    });
    expect(r.status).toBe(0);
    expect(r.value("--app-name")).toBe("basic-auth");
    const ini = r.lines("INI ");
    // configparser reads %% as %: the URI round-trips.
    expect(ini).toContain(
      "database_uri = postgresql+psycopg2://mlflow@db.internal:5432/mlflow?application_name=a%%b",
    );
    expect(ini).toContain("default_permission = NO_PERMISSIONS");
    expect(ini.join("\n")).not.toContain("admin-secret");
    expect(r.line("INI_MODE")).toBe("600");
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
