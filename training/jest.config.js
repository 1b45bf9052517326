import { jestConfig, testTimeoutOptions } from "../jest.base.config.js";

const rootDir = import.meta.dirname;
const { reporters, ...shared } = jestConfig({ displayName: "training" });

// Unit tests need nothing; the integration project's global setup reuses or starts the local stack.
export default {
  ...(reporters === undefined ? {} : { reporters }),
  projects: [
    { ...shared, rootDir, displayName: "training:unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...shared,
      rootDir,
      displayName: "training:integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/../scripts/src/local-stack/jest-global-setup.ts",
      globalTeardown: "<rootDir>/../scripts/src/local-stack/jest-global-teardown.ts",
      ...testTimeoutOptions(300_000),
    },
  ],
};
