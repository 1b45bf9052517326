import { jestConfig, testTimeoutOptions } from "../jest.base.config.js";

const rootDir = import.meta.dirname;
// Root-only options (reporters) stay at the top; the rest is shared by both projects.
const { reporters, ...shared } = jestConfig({ displayName: "common" });

// Two projects: unit tests need nothing; the integration project's global setup (which jest runs
// only when one of its tests is selected) reuses or starts the local stack.
export default {
  ...(reporters === undefined ? {} : { reporters }),
  projects: [
    { ...shared, rootDir, displayName: "common:unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...shared,
      rootDir,
      displayName: "common:integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/../scripts/src/local-stack/jest-global-setup.ts",
      globalTeardown: "<rootDir>/../scripts/src/local-stack/jest-global-teardown.ts",
      ...testTimeoutOptions(120_000),
    },
  ],
};
