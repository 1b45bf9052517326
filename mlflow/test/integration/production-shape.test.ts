/**
 * The production shape, once: MLflow started by the image's entrypoint on PostgreSQL, with the
 * basic-auth app on and its users in the same database, two workers, artifacts proxied.
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { AppError } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { z } from "zod";
import { HttpTransport, MlflowClient } from "../../src/index.js";
import {
  type EntrypointServer,
  mlflowDir,
  repoRoot,
  startEntrypointServer,
} from "./support/entrypoint-server.js";
import { closedPort } from "./support/faulty-proxy.js";
import { stack, uniqueName } from "./support/mlflow.js";
import { type PgCluster, startThrowawayPostgres } from "./support/postgres.js";

const run = promisify(execFile);
let dir: string;
let pg: PgCluster;
let server: EntrypointServer;
const adminPassword = `adm-${randomBytes(9).toString("base64url")}`;

/**
 * The stack's virtualenv carries what the image installs for this shape (the basic-auth app's
 * Flask-WTF, the PostgreSQL driver): scripts/python-requirements.txt pins them.
 */
function ensureServerExtras(venvDir: string): void {
  const python = join(venvDir, "bin", "python");
  const check = spawnSync(python, ["-c", "import psycopg2, flask_wtf"], { encoding: "utf8" });
  if (check.status !== 0)
    throw new Error(
      `The stack's virtualenv (${venvDir}) lacks psycopg2/flask_wtf: it predates scripts/python-requirements.txt; ` +
        `run \`pnpm stack down && pnpm stack up\` to rebuild it.\n${check.stderr}`,
    );
}

beforeAll(async () => {
  const base = join(repoRoot, ".local", "mlflow-tests");
  await mkdir(base, { recursive: true });
  dir = await mkdtemp(join(base, "pg-auth-"));
  ensureServerExtras(stack.venvDir);
  pg = await startThrowawayPostgres();
  server = await startEntrypointServer(
    stack.venvDir,
    {
      MLFLOW_DB_HOST: pg.host,
      MLFLOW_DB_PORT: String(pg.port),
      MLFLOW_DB_NAME: pg.database,
      MLFLOW_DB_USER: pg.user,
      MLFLOW_DB_PASSWORD: pg.password,
      MLFLOW_ARTIFACTS_DESTINATION: join(dir, "artifacts"),
      MLFLOW_WORKERS: "2",
      MLFLOW_AUTH_ENABLED: "true",
      MLFLOW_AUTH_ADMIN_PASSWORD: adminPassword,
      MLFLOW_FLASK_SERVER_SECRET_KEY: randomBytes(16).toString("hex"),
      TMPDIR: dir,
    },
    join(dir, "mlflow.log"),
  );
}, 420_000);

afterAll(async () => {
  await server?.stop();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

const clientAs = (username: string, password: string) =>
  new MlflowClient({
    trackingUri: server.url,
    auth: { kind: "basic", username, password },
    retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
  });

/** The auth app's admin endpoints (users, permissions) are not part of the client's API. */
async function adminCall(path: string, body: Record<string, string>): Promise<void> {
  const transport = new HttpTransport({
    baseUrl: server.url,
    auth: { kind: "basic", username: "admin", password: adminPassword },
    timeoutMs: 30_000,
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  });
  await transport.json({
    operation: path,
    method: "POST",
    path,
    body,
    schema: z.looseObject({}),
    idempotent: false,
  });
}

describe("MLflow on PostgreSQL with basic auth, started by the image's entrypoint", () => {
  it("passes the image's HEALTHCHECK script, which fails when nothing listens", async () => {
    const healthcheck = join(mlflowDir, "server", "healthcheck.py");
    const python = join(stack.venvDir, "bin", "python");
    await expect(
      run(python, [healthcheck], { env: { ...process.env, MLFLOW_PORT: String(server.port) } }),
    ).resolves.toBeDefined();
    const down = await run(python, [healthcheck], {
      env: { ...process.env, MLFLOW_PORT: String(await closedPort()) },
    }).catch((e: { code?: number }) => e);
    expect(down).toMatchObject({ code: 1 });
  });

  it("lets the admin, whose password came from the environment, track, upload, register and resolve", async () => {
    const admin = clientAs("admin", adminPassword);
    const experimentId = await admin.createExperiment(uniqueName("pg-admin"));
    const runInfo = (await admin.createRun({ experimentId })).info;
    await admin.logBatch(runInfo.run_id, {
      params: { optimizer: "adam" },
      metrics: [{ key: "auc", value: 0.7, timestamp: Date.now(), step: 0 }],
    });
    const file = join(dir, "MLmodel");
    await writeFile(file, "flavors: {}\n");
    await admin.uploadArtifact(runInfo.run_id, file, { artifactDir: "model" });
    const name = uniqueName("pg-model");
    const mv = await admin.registerModel(name, runInfo.run_id, "model");
    await admin.setAlias(name, "champion", mv.version);
    const model = await admin.downloadModel(`models:/${name}@champion`, join(dir, "download"));
    expect(model.files).toEqual(["MLmodel"]);
    expect(await readFile(join(dir, "download", "MLmodel"), "utf8")).toBe("flavors: {}\n");
  });

  it("refuses a user without permission with 403 FORBIDDEN, and bad credentials with 401 UNAUTHORIZED", async () => {
    const admin = clientAs("admin", adminPassword);
    const experimentName = uniqueName("pg-private");
    const experimentId = await admin.createExperiment(experimentName);
    const alicePassword = `al-${randomBytes(9).toString("base64url")}`;
    await adminCall("/api/2.0/mlflow/users/create", { username: "alice", password: alicePassword });
    const alice = clientAs("alice", alicePassword);

    const refused = await alice.getExperiment(experimentId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({
      code: "FORBIDDEN",
      details: expect.objectContaining({ httpStatus: 403 }),
    });
    await expect(clientAs("alice", "wrong-password").getExperiment(experimentId)).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      details: expect.objectContaining({ httpStatus: 401 }),
    });
    const anonymous = new MlflowClient({ trackingUri: server.url });
    await expect(anonymous.getExperiment(experimentId)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect((await admin.getExperiment(experimentId)).name).toBe(experimentName);

    // READ granted: alice can now read the experiment but still not write to it.
    // MLflow 3.17 grants through its v3 permissions API; the documented
    // /api/2.0/mlflow/experiments/permissions/create answers 404 there.
    await adminCall("/api/3.0/mlflow/users/permissions/grant", {
      username: "alice",
      resource_type: "experiment",
      resource_id: experimentId,
      permission: "READ",
    });
    expect((await alice.getExperiment(experimentId)).name).toBe(experimentName);
    await expect(alice.createRun({ experimentId })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("keeps the auth app's users in the same PostgreSQL database as the runs", async () => {
    const users = await pg.query("SELECT username FROM users ORDER BY username");
    expect(users).toEqual(expect.arrayContaining(["admin"]));
    const tables = await pg.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables).toEqual(expect.arrayContaining(["experiments", "runs", "registered_models", "users"]));
    const admins = await pg.query("SELECT is_admin FROM users WHERE username = 'admin'");
    expect(admins).toEqual(["t"]);
  });

  it("wrote no password into the auth ini it generated: the admin's comes from the environment", async () => {
    const ini = spawnSync("sh", ["-c", `cat "${dir}"/mlflow-auth.*/basic_auth.ini`], { encoding: "utf8" });
    expect(ini.status).toBe(0);
    expect(ini.stdout).toMatch(/^database_uri = postgresql\+psycopg2:\/\//m);
    expect(ini.stdout).not.toContain(adminPassword);
    expect(ini.stdout).not.toContain(pg.password);
    expect(ini.stdout).not.toMatch(/admin_password/);
    const mode = spawnSync("sh", ["-c", `stat -c %a "${dir}"/mlflow-auth.*/basic_auth.ini`], {
      encoding: "utf8",
    });
    expect(mode.stdout.trim()).toBe("600");
  });

  it("shows the database password in no process's command line (what `ps` shows)", async () => {
    const processes = processGroup(server.pid);
    expect(processes.length).toBeGreaterThanOrEqual(3); // the entrypoint, mlflow server, its workers
    expect(processes.some((p) => p.args.includes("mlflow"))).toBe(true);
    for (const p of processes) expect(p.args).not.toContain(pg.password);
    const ps = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" });
    expect(ps.stdout).not.toContain(pg.password);
  });

  it("leaves no file behind with the password, and removes its auth ini when the server stops", async () => {
    await server.stop();
    const found = spawnSync("grep", ["-rlF", pg.password, dir], { encoding: "utf8" });
    expect(found.stdout).toBe("");
    const left = spawnSync("sh", ["-c", `ls -d "${dir}"/mlflow-auth.* 2>/dev/null`], { encoding: "utf8" });
    expect(left.stdout).toBe("");
  });
});

/** Every process of a process group with its arguments, read from /proc as `ps` does. */
function processGroup(pgid: number): { pid: number; args: string }[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(fields[2]) !== pgid) return [];
        const args = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
        return [{ pid: Number(name), args }];
      } catch {
        return []; // the process ended meanwhile
      }
    });
}
