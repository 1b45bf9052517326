/**
 * One's own G1 files through the local platform, as docs/data.md tells a data engineer to do it:
 * `pnpm upload DIR --prefix P` on a running environment (per-file progress, the ingestion summary,
 * a clear failure for a file the engine rejects as a whole), `pnpm ingestions --prefix P` later, and
 * `./scripts/demo.sh --data DIR` with too few readers to train: it says so and serves cold start.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { silentRunnerLogger } from "../../src/demo/progress.js";
import {
  destroyEnvironment,
  type LocalStackEndpoints,
  LocalTaskRunner,
  type ProvisionedEnvironment,
  provisionEnvironment,
  readLocalStack,
  uniquePrefix,
} from "../../src/index.js";
import { freePort } from "../../src/local-stack/stack.js";

const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
const TSX = ["--conditions=@gplay/source", "--import", "tsx"];
const exec = promisify(execFile);

/** Runs the data CLI as `pnpm upload|ingestions` does; resolves with its exit code and output. */
async function dataCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...TSX, "scripts/src/data/cli.ts", ...args], {
      cwd: REPO_ROOT,
      timeout: 240_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function generate(dir: string, users: number, days: number, malformed: boolean): Promise<void> {
  await exec(
    process.execPath,
    [
      ...TSX,
      "featstore-engine/src/generator/cli.ts",
      "--out",
      dir,
      "--users",
      String(users),
      "--days",
      String(days),
      "--seed",
      "own-data-test",
      ...(malformed ? ["--malformed"] : []),
    ],
    { cwd: REPO_ROOT, timeout: 120_000 },
  );
  rmSync(join(dir, "expected.json"));
}

describe("pnpm upload and pnpm ingestions on a running environment", () => {
  let endpoints: LocalStackEndpoints;
  let env: ProvisionedEnvironment;
  let runner: LocalTaskRunner;
  const dir = mkdtempSync(join(tmpdir(), "gplay-own-data-"));

  beforeAll(async () => {
    endpoints = await readLocalStack();
    env = await provisionEnvironment(endpoints, uniquePrefix("own-data"));
    runner = LocalTaskRunner.forEnvironment("ingest", endpoints, env, {
      env: { GPLAY_PREFIX: env.prefix, LOG_LEVEL: "warn", GPLAY_SNAPSHOT_AFTER_INGEST: "false" },
      logger: silentRunnerLogger,
      waitTimeSeconds: 1,
      maxAttempts: 1,
    });
    runner.start();
    await generate(dir, 40, 2, true);
    // A treino file the engine rejects as a whole: its header is right, its bytes are not UTF-8.
    const header =
      "userId,userType,historySize,history,timestampHistory,numberOfClicksHistory,timeOnPageHistory,scrollPercentageHistory,pageVisitsCountHistory,timestampHistory_new\n";
    writeFileSync(
      join(dir, "broken.csv"),
      Buffer.concat([Buffer.from(header), Buffer.from([0xff, 0xfe, 0x0a])]),
    );
  }, 180_000);

  afterAll(async () => {
    await runner?.stop();
    if (env !== undefined) await destroyEnvironment(endpoints, env.prefix);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("uploads under raw/<kind>/, shows each file's progress and a summary with the reasons and the failure", async () => {
    const { code, stdout } = await dataCli(["upload", dir, "--prefix", env.prefix, "--timeout-s", "200"]);
    // 2 itens days + the week before, 2 treino days, validacao and the broken file.
    expect(stdout).toMatch(/\[1\/\d+\] raw\/itens\/itens-[\d-]+\.csv {2}itens, .* {2}uploaded/);
    expect(stdout).toMatch(/raw\/treino\/broken\.csv {2}treino, .* {2}uploaded/);
    expect(stdout).toMatch(/raw\/validacao\/validacao\.csv {2}validacao/);
    expect(stdout).toMatch(/raw\/treino\/treino-[\d-]+\.csv {2}ingested: \d+ accepted, \d+ quarantined/);
    expect(stdout).toContain("ingestion summary:");
    expect(stdout).toMatch(/quarantined by reason: .*BAD_USER_ID 1/);
    expect(stdout).toMatch(/raw\/treino\/broken\.csv\s+REFUSED: .*UTF-8/);
    expect(code).toBe(1); // one file was not ingested
  }, 240_000);

  it("lists the same ingestions later, and uploads nothing twice", async () => {
    const later = await dataCli(["ingestions", "--prefix", env.prefix]);
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(/raw\/treino\/treino-[\d-]+\.csv\s+treino\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+/);
    expect(later.stdout).toMatch(/raw\/treino\/broken\.csv\s+REFUSED/);
    rmSync(join(dir, "broken.csv"));
    const again = await dataCli(["upload", dir, "--prefix", env.prefix, "--no-wait"]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/ {2}uploaded$/m);
    expect(again.stdout).toMatch(/unchanged \(same bytes already there; not ingested again\)/);
  }, 240_000);

  it("refuses a folder with a file of no G1 kind, uploading nothing, and an unknown prefix", async () => {
    const bad = mkdtempSync(join(tmpdir(), "gplay-own-data-bad-"));
    try {
      writeFileSync(join(bad, "notes.csv"), "a,b\n1,2\n");
      const refused = await dataCli(["upload", bad, "--prefix", env.prefix]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /VALIDATION_FAILED: nothing uploaded: 1 file\(s\) have no G1 header \(notes\.csv\)/,
      );
      const unknown = await dataCli(["upload", bad, "--prefix", uniquePrefix("nowhere")]);
      expect(unknown.stderr).toMatch(/NOT_FOUND: no environment/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("./scripts/demo.sh --data DIR with too little data to train", () => {
  const dir = mkdtempSync(join(tmpdir(), "gplay-own-data-few-"));
  let demo: ChildProcess | undefined;
  let prefix: string | undefined;

  afterAll(async () => {
    if (demo !== undefined && demo.exitCode === null) {
      demo.kill("SIGINT");
      await new Promise((resolve) => demo?.once("exit", resolve));
    }
    if (prefix !== undefined) await destroyEnvironment(await readLocalStack(), prefix);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("ingests the files, says training has too little data, and serves cold start", async () => {
    await generate(dir, 6, 1, false);
    const port = await freePort();
    demo = spawn("bash", ["scripts/demo.sh", "--data", dir, "--port", String(port)], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    demo.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    demo.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes("Ctrl-C stops everything")) {
          clearInterval(timer);
          resolve();
        } else if (demo?.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`the demo exited (${demo?.exitCode}):\n${output}`));
        }
      }, 250);
    });
    prefix = /prefix (gplay-demo-[0-9a-f]{8})/.exec(output)?.[1];
    expect(prefix).toBeDefined();
    expect(output).toContain("ingestion summary:");
    expect(output).toMatch(/raw\/treino\/treino-[\d-]+\.csv\s+treino\s+\d+/);
    expect(output).toMatch(/too little data to train a model: \d+ reader\(s\) with history/);
    expect(output).toContain("no model (too little data to train): cold start only");
    expect(output).toContain("no experiment yet");
    const answer = await fetch(`http://127.0.0.1:${port}/coldstart?k=3`, {
      headers: { "x-api-key": "demo-key-0123456789abcdef" },
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { strategy: string; items: unknown[] };
    expect(body.strategy).toBe("coldstart");
    expect(body.items.length).toBeGreaterThan(0);
    demo.kill("SIGINT");
    const code = await new Promise((resolve) => demo?.once("exit", resolve));
    expect(code).toBe(0);
  }, 600_000);
});
