// Shared Jest settings: ESM + TypeScript through ts-jest, workspace packages resolved to their sources
// through the `@gplay/source` export condition (so tests need no prior build).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDefaultEsmPreset } from "ts-jest";

const repoRoot = dirname(fileURLToPath(import.meta.url));

/** @param {{ displayName: string, integration?: boolean }} options */
export function jestConfig({ displayName, integration = true }) {
  const preset = createDefaultEsmPreset({ tsconfig: "<rootDir>/tsconfig.json" });
  return {
    displayName,
    ...preset,
    testEnvironment: "node",
    testEnvironmentOptions: { customExportConditions: ["@gplay/source", "node", "node-addons"] },
    moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
    testMatch: integration ? ["<rootDir>/test/**/*.test.ts"] : ["<rootDir>/test/unit/**/*.test.ts"],
    testTimeout: 30_000,
    reporters: [
      "default",
      [
        join(repoRoot, "scripts/jest-summary-reporter.cjs"),
        { dir: join(repoRoot, ".local/test-results"), name: displayName },
      ],
    ],
  };
}
