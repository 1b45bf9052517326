// Sums the per-workspace results written by scripts/jest-summary-reporter.cjs into one closing line.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let suitesFailed = 0;
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
for (const file of files) {
  const r = JSON.parse(readFileSync(join(dir, file), "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  suitesFailed += r.numFailedTestSuites;
  console.log(`  ${r.displayName}: ${r.numPassedTests} passed, ${r.numFailedTests} failed (${r.seconds}s)`);
}
if (files.length === 0) failed += 1;
console.log(`tests: ${passed} passed, ${failed + (failed === 0 ? suitesFailed : 0)} failed`);
process.exit(failed > 0 || suitesFailed > 0 || files.length === 0 ? 1 : 0);
