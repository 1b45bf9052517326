import { jestConfig, testTimeoutOptions } from "../jest.base.config.js";

const rootDir = import.meta.dirname;
// Root-only options (reporters) stay at the top; the rest is shared by both projects.
const { reporters, ...shared } = jestConfig({ displayName: "mlflow" });

// Two projects: unit tests (pure domain, the Dockerfile) need nothing; the integration project's
// global setup (run only when one of its tests is selected) reuses or starts the local stack, whose
// MLflow server every integration test talks to.
export default {
  ...(reporters === undefined ? {} : { reporters }),
  projects: [
    { ...shared, rootDir, displayName: "mlflow:unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...shared,
      rootDir,
      displayName: "mlflow:integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/../scripts/src/local-stack/jest-global-setup.ts",
      globalTeardown: "<rootDir>/../scripts/src/local-stack/jest-global-teardown.ts",
      ...testTimeoutOptions(120_000),
    },
  ],
};
