import { Writable } from "node:stream";
import { createLogger, type Logger } from "@gplay/common";

const isTty = process.stderr.isTTY === true;
const started = Date.now();

function elapsed(): string {
  const s = Math.round((Date.now() - started) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** One demo step line on stderr: `[m:ss] message`. */
export function step(message: string): void {
  process.stderr.write(`${isTty ? "\x1b[1;34m" : ""}[${elapsed()}]${isTty ? "\x1b[0m" : ""} ${message}\n`);
}

/** A logger for the task runners whose JSON lines go nowhere (the demo prints its own steps). */
export const silentRunnerLogger: Logger = createLogger({
  service: "demo-runner",
  version: "0.1.0",
  level: "warn",
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

/** Polls `check` until it returns a value, showing a spinner line on a terminal; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  detail: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let frame = 0;
  let lastLog = 0;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      if (isTty) process.stderr.write("\r\x1b[2K");
      return value;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    if (isTty) process.stderr.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${what} ${detail()}`);
    else if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      step(`… ${what} ${detail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
