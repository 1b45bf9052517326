import { jestConfig, testTimeoutOptions } from "../jest.base.config.js";

const rootDir = import.meta.dirname;
// Root-only options (reporters) stay at the top; the rest is shared by both projects.
const { reporters, ...shared } = jestConfig({ displayName: "api" });

// Unit and component tests need nothing outside the process; the integration project's global setup
// (run only when one of its tests is selected) reuses or starts the local stack.
export default {
  ...(reporters === undefined ? {} : { reporters }),
  projects: [
    {
      ...shared,
      rootDir,
      displayName: "api:unit",
      testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/test/component/**/*.test.ts"],
      // Component tests start the real app (and a few spawn it): a minute on a loaded machine.
      ...testTimeoutOptions(60_000),
    },
    {
      ...shared,
      rootDir,
      displayName: "api:integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/../scripts/src/local-stack/jest-global-setup.ts",
      globalTeardown: "<rootDir>/../scripts/src/local-stack/jest-global-teardown.ts",
      ...testTimeoutOptions(120_000),
    },
  ],
};
