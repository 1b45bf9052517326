import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { AppError } from "@gplay/common";
import { isAlive, sleep } from "./processes.js";

/**
 * A cross-process lock file (`O_EXCL` create, owner pid inside). Several test runs and CLIs may
 * start the stack at the same time; only one creates the venv and spawns servers, the others wait
 * and then reuse. A lock whose owner died is taken over.
 */
export async function withFileLock<T>(
  path: string,
  timeoutMs: number,
  body: () => Promise<T>,
  onWait?: (owner: number) => void,
): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        await rm(path, { force: true });
        continue;
      }
      if (!announced && onWait !== undefined && Number.isInteger(owner)) onWait(owner);
      announced = true;
      if (Date.now() > deadline) {
        throw new AppError("TIMEOUT", `Timed out waiting for the lock ${path} (held by pid ${owner}).`, {
          details: { path, owner },
        });
      }
      await sleep(200);
    }
  }
  try {
    return await body();
  } finally {
    await rm(path, { force: true });
  }
}
