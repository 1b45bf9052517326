import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { withFileLock } from "../../src/local-stack/lock.js";
import { sleep } from "../../src/local-stack/processes.js";

const dir = mkdtempSync(join(tmpdir(), "gplay-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("withFileLock", () => {
  it("runs bodies one at a time", async () => {
    const lock = join(dir, "serial");
    const events: string[] = [];
    const body = (name: string) => async () => {
      events.push(`${name}:in`);
      await sleep(50);
      events.push(`${name}:out`);
      return name;
    };
    const results = await Promise.all([
      withFileLock(lock, 5_000, body("a")),
      withFileLock(lock, 5_000, body("b")),
    ]);
    expect(results).toEqual(["a", "b"]);
    // Either may take the lock first; what matters is that one body ends before the other starts.
    const first = events[0]?.split(":")[0];
    const second = first === "a" ? "b" : "a";
    expect(events).toEqual([`${first}:in`, `${first}:out`, `${second}:in`, `${second}:out`]);
  });

  it("takes over a lock whose owner process is gone", async () => {
    const lock = join(dir, "stale");
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    writeFileSync(lock, dead.stdout);
    await expect(withFileLock(lock, 2_000, async () => "taken")).resolves.toBe("taken");
  });

  it("times out with a clear error while a live owner holds it", async () => {
    const lock = join(dir, "held");
    writeFileSync(lock, String(process.pid));
    await expect(withFileLock(lock, 300, async () => "never")).rejects.toThrow(
      /Timed out waiting for the lock/,
    );
    rmSync(lock);
  });

  it("releases the lock when the body throws", async () => {
    const lock = join(dir, "throws");
    await expect(
      withFileLock(lock, 1_000, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expect(withFileLock(lock, 300, async () => "again")).resolves.toBe("again");
  });
});
