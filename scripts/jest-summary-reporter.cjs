// A Jest reporter that records one workspace's totals for scripts/summarise-tests.mjs.
const { mkdirSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

class SummaryReporter {
  constructor(_globalConfig, options) {
    this.dir = options.dir;
    this.name = options.name;
  }
  onRunComplete(_contexts, results) {
    mkdirSync(this.dir, { recursive: true });
    const seconds = Math.round((Date.now() - results.startTime) / 100) / 10;
    writeFileSync(
      join(this.dir, `${this.name}.json`),
      JSON.stringify({
        displayName: this.name,
        numPassedTests: results.numPassedTests,
        numFailedTests: results.numFailedTests,
        numFailedTestSuites: results.numFailedTestSuites + (results.numRuntimeErrorTestSuites ?? 0),
        seconds,
      }),
    );
  }
}
module.exports = SummaryReporter;
