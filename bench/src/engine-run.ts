/**
 * Shared by the engine benchmarks: runs a child process while sampling its peak RSS, and generates
 * (once, cached under `.local/bench/data-<scale>`) the G1 data set of a scale.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
/** Readers of the real kit; a scale multiplies it. */
export const FULL_USERS = 577_942;
const DAYS = 46;
const SEED = "bench";

/**
 * Runs `node args…` from the repository root (or `cwd`: a baseline tree); peak RSS (VmHWM) and own
 * CPU sampled from /proc.
 */
export function runMeasured(
  args: string[],
  env: Record<string, string>,
  timeLimitSeconds = Number.POSITIVE_INFINITY,
  cwd = ROOT,
): Promise<{
  seconds: number;
  peakRssMb: number;
  /** The child's own CPU (user + system) seconds, sampled from /proc every 100 ms until it exits. */
  cpuSeconds: number;
  stdout: string;
  stderr: string;
  code: number | null;
  /** Seconds since start at which each stdout line arrived. */
  lines: { at: number; text: string }[];
  stopped: boolean;
}> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let peakKb = 0;
    let cpuTicks = 0;
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        if (hwm !== null) peakKb = Math.max(peakKb, Number(hwm[1]));
        const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        cpuTicks = Math.max(cpuTicks, Number(fields[11]) + Number(fields[12]));
      } catch {
        // the process just exited
      }
    };
    const timer = setInterval(sample, 100);
    let stdout = "";
    let stderr = "";
    let pending = "";
    let stopped = false;
    const lines: { at: number; text: string }[] = [];
    const limit = Number.isFinite(timeLimitSeconds)
      ? setTimeout(() => {
          stopped = true;
          sample();
          child.kill("SIGTERM");
        }, timeLimitSeconds * 1000)
      : undefined;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      const at = Number(process.hrtime.bigint() - started) / 1e9;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const text of parts) lines.push({ at, text });
      sample();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(timer);
      clearTimeout(limit);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Clock ticks are 100 Hz on Linux.
      resolve({
        seconds,
        peakRssMb: peakKb / 1024,
        cpuSeconds: cpuTicks / 100,
        stdout,
        stderr,
        code,
        lines,
        stopped,
      });
    });
  });
}

export async function ensureData(scale: number): Promise<string> {
  const dir = path.join(ROOT, ".local", "bench", `data-${scale}`);
  if (existsSync(path.join(dir, "expected.json"))) return dir;
  const users = Math.round(FULL_USERS * scale);
  console.log(`generating ${users} users × ${DAYS} days into ${dir} …`);
  const run = await runMeasured(
    [
      "--conditions=@gplay/source",
      "--import",
      "tsx",
      "featstore-engine/src/generator/cli.ts",
      ...["--out", dir, "--users", String(users), "--seed", SEED, "--days", String(DAYS)],
    ],
    {},
  );
  if (run.code !== 0) throw new Error(`generator failed: ${run.stderr}`);
  return dir;
}
