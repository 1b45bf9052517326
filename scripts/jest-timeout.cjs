// Applies the project's test timeout (jest's `globals.GPLAY_TEST_TIMEOUT_MS`, set by jest.base.config.js).
// Jest reads `testTimeout` from the root config only and ignores it inside `projects`
// (https://github.com/jestjs/jest/issues/9696); a setup file runs in every test file of its project.
const ms = globalThis.GPLAY_TEST_TIMEOUT_MS;
if (typeof ms !== "number" || !(ms > 0)) {
  throw new Error(
    "jest-timeout.cjs: set globals.GPLAY_TEST_TIMEOUT_MS through testTimeoutOptions() in jest.base.config.js",
  );
}
jest.setTimeout(ms);
