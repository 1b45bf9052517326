/**
 * MLflow's own database user (mlflow/server/bootstrap_db.py), against a throwaway PostgreSQL: the
 * master user creates it, hands it MLflow's existing schema, and sets a new password on rotation;
 * the old password stops working, the new one works, and no password reaches the server in clear.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mlflowDir } from "./support/entrypoint-server.js";
import { stack } from "./support/mlflow.js";
import { type PgCluster, startThrowawayPostgres } from "./support/postgres.js";

const run = promisify(execFile);
const script = join(mlflowDir, "server", "bootstrap_db.py");
const python = join(stack.venvDir, "bin", "python");
const APP_USER = "mlflow_app";
let pg: PgCluster;

beforeAll(async () => {
  pg = await startThrowawayPostgres("mlflowdb");
  // The schema MLflow created while it connected as the master user.
  await pg.query("CREATE TABLE experiments (experiment_id SERIAL PRIMARY KEY, name TEXT NOT NULL)");
  await pg.query("CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, experiment_id INT)");
  await pg.query("CREATE SEQUENCE standalone_seq");
  await pg.query("CREATE TYPE lifecycle AS ENUM ('active', 'deleted')");
  await pg.query("INSERT INTO experiments (name) VALUES ('Default')");
}, 180_000);

afterAll(async () => {
  await pg?.stop();
}, 60_000);

interface Outcome {
  code: number;
  line: Record<string, unknown>;
  stdout: string;
}

async function bootstrap(env: Record<string, string>): Promise<Outcome> {
  const base = {
    PATH: process.env.PATH ?? "",
    MLFLOW_DB_HOST: pg.host,
    MLFLOW_DB_PORT: String(pg.port),
    MLFLOW_DB_NAME: pg.database,
    MLFLOW_DB_MASTER_USER: pg.user,
    MLFLOW_DB_MASTER_PASSWORD: pg.password,
    MLFLOW_DB_USER: APP_USER,
  };
  const result = await run(python, [script], { env: { ...base, ...env }, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? "" }),
  );
  const lines = result.stdout.trim().split("\n");
  return { ...result, line: JSON.parse(lines[lines.length - 1] ?? "{}") as Record<string, unknown> };
}

/** Runs SQL as `user` with `password` over TCP (scram), as MLflow would connect. */
async function asUser(user: string, password: string, sql: string): Promise<string[]> {
  const { stdout } = await run(
    "psql",
    [
      "-h",
      pg.host,
      "-p",
      String(pg.port),
      "-U",
      user,
      "-d",
      pg.database,
      "-v",
      "ON_ERROR_STOP=1",
      "-At",
      "-c",
      sql,
    ],
    { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "10" }, timeout: 30_000 },
  );
  return stdout.split("\n").filter((l) => l.length > 0);
}

const password = () => `pw:${randomBytes(12).toString("base64url")}@%'"`;

describe("MLflow's own database user (bootstrap_db.py)", () => {
  const first = password();
  const second = password();

  it("creates the user, which signs in with its password and owns MLflow's existing schema", async () => {
    const out = await bootstrap({ MLFLOW_DB_PASSWORD: first });
    expect(out).toMatchObject({
      code: 0,
      line: { event: "mlflow-db-user-ready", user: APP_USER, created: true },
    });
    expect(out.line.ownershipMoved).toBe(4); // two tables, the standalone sequence, the type
    expect(await asUser(APP_USER, first, "SELECT name FROM experiments")).toEqual(["Default"]);
    const owners = await pg.query(
      "SELECT c.relname || ':' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S') ORDER BY 1",
    );
    expect(owners).toEqual([
      `experiments:${APP_USER}`,
      `experiments_experiment_id_seq:${APP_USER}`,
      `runs:${APP_USER}`,
      `standalone_seq:${APP_USER}`,
    ]);
    // What MLflow's migrations do: alter its tables, create new ones.
    await asUser(APP_USER, first, "ALTER TABLE runs ADD COLUMN status TEXT");
    await asUser(APP_USER, first, "CREATE TABLE alembic_probe (id INT)");
    expect(await pg.query("SELECT rolsuper FROM pg_roles WHERE rolname = 'mlflow_app'")).toEqual(["f"]);
  }, 120_000);

  it("on rotation sets the new password: the old one is refused, the new one works, nothing else changes", async () => {
    const out = await bootstrap({ MLFLOW_DB_PASSWORD: second });
    expect(out).toMatchObject({ code: 0, line: { created: false, ownershipMoved: 0 } });
    await expect(asUser(APP_USER, first, "SELECT 1")).rejects.toThrow(/password authentication failed/);
    expect(await asUser(APP_USER, second, "SELECT count(*) FROM experiments")).toEqual(["1"]);
    // Idempotent: the same value again changes nothing that matters.
    expect((await bootstrap({ MLFLOW_DB_PASSWORD: second })).code).toBe(0);
    expect(await asUser(APP_USER, second, "SELECT 1")).toEqual(["1"]);
  }, 120_000);

  it("stores a SCRAM verifier, never the password, and writes no password to its output or the server log", async () => {
    const stored = await pg.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'mlflow_app'");
    expect(stored[0]).toMatch(/^SCRAM-SHA-256\$4096:/);
    const log = await readFile(join(pg.dataDir, "server.log"), "utf8").catch(() => "");
    expect(log).not.toContain(second);
    expect(log).not.toContain(first);
    const out = await bootstrap({ MLFLOW_DB_PASSWORD: second });
    expect(out.stdout).not.toContain(second);
    expect(out.stdout).not.toContain(pg.password);
  }, 120_000);

  it("refuses to run as the master user, or without a password, with a clear one-line error", async () => {
    const asMaster = await bootstrap({ MLFLOW_DB_USER: pg.user, MLFLOW_DB_PASSWORD: second });
    expect(asMaster).toMatchObject({ code: 1, line: { event: "mlflow-db-user-failed" } });
    expect(String(asMaster.line.error)).toMatch(/must not be the master user/);
    const noPassword = await bootstrap({ MLFLOW_DB_PASSWORD: "" });
    expect(String(noPassword.line.error)).toMatch(/set MLFLOW_DB_PASSWORD/);
    const wrongMaster = await bootstrap({ MLFLOW_DB_PASSWORD: second, MLFLOW_DB_MASTER_PASSWORD: "wrong" });
    expect(wrongMaster.code).toBe(1);
    expect(JSON.stringify(wrongMaster.line)).not.toContain(pg.password);
  }, 120_000);
});
