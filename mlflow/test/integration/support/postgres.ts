/**
 * A throwaway PostgreSQL cluster for one test file: Debian's server binaries (installed with apt-get
 * when missing), initdb + pg_ctl on a free loopback port under the repository's `.local/`, run as the
 * `postgres` system user when we are root (initdb refuses root). Fails loudly, never skips.
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { closedPort } from "./faulty-proxy.js";

const run = promisify(execFile);

export interface PgCluster {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  dataDir: string;
  /** Runs one SQL statement with psql and returns its unaligned rows. */
  query(sql: string): Promise<string[]>;
  stop(): Promise<void>;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

async function findBinDir(): Promise<string | undefined> {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = (await readdir(root))
      .filter((v) => /^[0-9]+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = join(root, v, "bin");
      if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
    }
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  const initdb = which.stdout.trim();
  return which.status === 0 && initdb !== "" ? initdb.replace(/\/initdb$/, "") : undefined;
}

/** PostgreSQL's bin folder, installing Debian's `postgresql` package when it is missing. */
export async function ensurePostgresInstalled(): Promise<string> {
  const found = await findBinDir();
  if (found !== undefined) return found;
  if (spawnSync("sh", ["-c", "command -v apt-get"]).status !== 0) {
    throw new Error(
      "PostgreSQL's server binaries (initdb, pg_ctl) are missing and apt-get is not available to install them: " +
        "install Debian's `postgresql` package (or put initdb/pg_ctl on PATH) and re-run.",
    );
  }
  if (!isRoot()) {
    throw new Error(
      "PostgreSQL is missing and installing it needs root: run `apt-get install -y postgresql` as root.",
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], {
      env,
      encoding: "utf8",
    });
  let result = install();
  if (result.status !== 0) {
    spawnSync("apt-get", ["update"], { env, encoding: "utf8" });
    result = install();
  }
  const dir = await findBinDir();
  if (result.status !== 0 || dir === undefined) {
    throw new Error(
      `apt-get install -y postgresql failed (exit ${result.status}):\n${result.stderr.slice(-2000)}`,
    );
  }
  return dir;
}

/**
 * Starts a fresh cluster with password (scram) auth over TCP and one database. Its files live in a
 * directory of their own under the system temp dir, not in the checkout: run as root, the cluster's
 * owner is `postgres`, which must reach them wherever the repository lives (a clone under a 0700
 * folder, for instance).
 */
export async function startThrowawayPostgres(database = "mlflow"): Promise<PgCluster> {
  const bin = await ensurePostgresInstalled();
  const baseDir = await mkdtemp(join(tmpdir(), "gplay-pg-"));
  const dataDir = join(baseDir, `pg-${randomBytes(4).toString("hex")}`);
  const user = "mlflow";
  // Characters that must be URL-encoded in a connection URI and escaped in an ini file.
  const password = `p@ss:w/rd%${randomBytes(6).toString("hex")}#`;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pwFile = join(baseDir, `pw-${randomBytes(4).toString("hex")}`);
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });

  const asOwner = async (cmd: string, args: string[]) => {
    if (isRoot()) return run("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args], { cwd: baseDir });
    return run(join(bin, cmd), args, { cwd: baseDir });
  };
  if (isRoot()) {
    await chown(dataDir, pgUid(), pgGid());
    await chown(pwFile, pgUid(), pgGid());
    await chmod(baseDir, 0o755);
  }
  try {
    await asOwner("initdb", [
      "-D",
      dataDir,
      "-U",
      user,
      `--pwfile=${pwFile}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--no-locale",
      "-E",
      "UTF8",
    ]);
  } finally {
    await rm(pwFile, { force: true });
  }

  let port = 0;
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    port = await closedPort();
    try {
      await asOwner("pg_ctl", [
        "-D",
        dataDir,
        "-l",
        join(dataDir, "server.log"),
        "-w",
        "-t",
        "90",
        "-o",
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dataDir} -c fsync=off`,
        "start",
      ]);
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (lastError !== undefined) {
    const log = await readFile(join(dataDir, "server.log"), "utf8").catch(() => "");
    throw new Error(`pg_ctl start failed 3 times: ${String(lastError)}\n${log.slice(-2000)}`);
  }

  const psql = existsSync(join(bin, "psql")) ? join(bin, "psql") : "psql";
  const query = async (sql: string, db = database): Promise<string[]> => {
    const { stdout } = await run(
      psql,
      [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        user,
        "-d",
        db,
        "-v",
        "ON_ERROR_STOP=1",
        "-At",
        "-c",
        sql,
      ],
      { env: { ...process.env, PGPASSWORD: password } },
    );
    return stdout.split("\n").filter((l) => l.length > 0);
  };
  await query(`CREATE DATABASE ${database}`, "postgres");

  return {
    host: "127.0.0.1",
    port,
    user,
    password,
    database,
    dataDir,
    query: (sql) => query(sql),
    stop: async () => {
      await asOwner("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}

function idOf(flag: "-u" | "-g"): number {
  const out = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  if (out.status !== 0)
    throw new Error("the `postgres` system user is missing: reinstall Debian's postgresql package");
  return Number(out.stdout.trim());
}
const pgUid = () => idOf("-u");
const pgGid = () => idOf("-g");
