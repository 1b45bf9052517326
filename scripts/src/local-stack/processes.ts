import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True if a process with this pid exists (zombies included: they still hold the pid). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The command line of a live process, or undefined (Linux /proc). */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\u0000", " ").trim();
  } catch {
    return undefined;
  }
}

/** Pids of every live process in a process group (Linux /proc; zombies excluded). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the parenthesised command: state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (rest[0] !== "Z" && Number(rest[2]) === pgid) members.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

/**
 * Starts a long-running server in its own process group (so stopping it also stops its workers),
 * with stdout and stderr appended to a log file. It outlives the caller (the CLI exits, the
 * servers keep running until `down`).
 */
export function spawnDetached(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string },
): number {
  const fd = openSync(options.logFile, "a");
  try {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Stops a process group: SIGTERM, wait up to `graceMs` for every member to exit, then SIGKILL and
 * wait again. Returns true when nothing of the group is left.
 */
export async function stopProcessGroup(pgid: number, graceMs = 10_000): Promise<boolean> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // Already gone.
    }
  };
  const gone = () => processGroupMembers(pgid).length === 0;
  if (gone()) return true;
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (gone()) return true;
    await sleep(100);
  }
  signal("SIGKILL");
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline) {
    if (gone()) return true;
    await sleep(100);
  }
  return gone();
}
