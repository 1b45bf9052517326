import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { checkFolder } from "../../src/conformance/check.js";

describe("conformance check", () => {
  it("reports a quarantined row, a non-UTF-8 file and a missing file as failures", async () => {
    const dir = mkdtempSync(join(tmpdir(), "g1-conformance-bad-"));
    try {
      writeFileSync(
        join(dir, "treino-sample.csv"),
        "userId,userType,historySize,history,timestampHistory,numberOfClicksHistory,timeOnPageHistory,scrollPercentageHistory,pageVisitsCountHistory,timestampHistory_new\nabc,Logged,1,x,1,1,1,1.0,1,1\n",
      );
      writeFileSync(join(dir, "itens-sample.csv"), Buffer.from([0x70, 0x61, 0x67, 0x65, 0x0a, 0xe9, 0x0a]));
      const results = await checkFolder(dir);
      const byFile = Object.fromEntries(results.map((r) => [r.file, r.failures.join(" | ")]));
      expect(byFile["treino-sample.csv"]).toMatch(/quarantined BAD_USER_ID/);
      expect(byFile["itens-sample.csv"]).toMatch(/UNSUPPORTED_INPUT/);
      expect(byFile["validacao-sample.csv"]).toMatch(/ENOENT|no such file/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
