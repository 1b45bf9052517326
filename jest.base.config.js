// Shared Jest settings: ESM + TypeScript through ts-jest, workspace packages resolved to their sources
// through the `@gplay/source` export condition (so tests need no prior build).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDefaultEsmPreset } from "ts-jest";

const repoRoot = dirname(fileURLToPath(import.meta.url));

/**
 * The options that give a project's tests a timeout that really applies: `testTimeout` alone is read
 * from the root config only (ignored inside `projects`), so a setup file sets it in every test file.
 * Sized for a loaded 2-core machine.
 * @param {number} ms
 */
export function testTimeoutOptions(ms) {
  return {
    testTimeout: ms,
    globals: { GPLAY_TEST_TIMEOUT_MS: ms },
    setupFilesAfterEnv: [join(repoRoot, "scripts/jest-timeout.cjs")],
  };
}

/** @param {{ displayName: string, integration?: boolean, timeoutMs?: number }} options */
export function jestConfig({ displayName, integration = true, timeoutMs = 30_000 }) {
  const preset = createDefaultEsmPreset({ tsconfig: "<rootDir>/tsconfig.json" });
  return {
    displayName,
    ...preset,
    testEnvironment: "node",
    testEnvironmentOptions: { customExportConditions: ["@gplay/source", "node", "node-addons"] },
    moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
    testMatch: integration ? ["<rootDir>/test/**/*.test.ts"] : ["<rootDir>/test/unit/**/*.test.ts"],
    ...testTimeoutOptions(timeoutMs),
    reporters: [
      "default",
      [
        join(repoRoot, "scripts/jest-summary-reporter.cjs"),
        { dir: join(repoRoot, ".local/test-results"), name: displayName },
      ],
    ],
  };
}
