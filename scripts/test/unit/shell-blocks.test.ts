import { describe, expect, it } from "@jest/globals";
import { shellBlocks } from "../../src/docs/shell-blocks.js";

const fence = "```";

describe("shellBlocks", () => {
  it("finds sh and bash blocks with the marker on the line before (blank lines allowed), and no others", () => {
    const md = [
      "# Title",
      `${fence}sh`,
      "pnpm stack up",
      fence,
      "<!-- needs: aws -->",
      "",
      `${fence}bash`,
      "aws s3 ls",
      fence,
      "<!-- runs: tests -->",
      `${fence}sh`,
      "./scripts/test.sh",
      fence,
      "<!-- runs: bench -->",
      `${fence}sh`,
      "node bench/src/x.ts",
      fence,
      "<!-- until: Ctrl-C stops everything -->",
      `${fence}sh`,
      "./scripts/demo.sh",
      fence,
      `${fence}ts`,
      "<!-- needs: aws -->",
      fence,
      `${fence}sh`,
      "echo after a ts block",
      fence,
      "- a list item:",
      `  ${fence}sh`,
      "  echo indented",
      `  ${fence}`,
      "<!-- needs: postgresql -->",
      `${fence}sh`,
      "psql",
      fence,
    ].join("\n");
    expect(shellBlocks(md, "x.md")).toEqual([
      { file: "x.md", line: 2, code: "pnpm stack up\n", mode: { run: "all" } },
      { file: "x.md", line: 7, code: "aws s3 ls\n", mode: { run: "check", why: "aws" } },
      { file: "x.md", line: 11, code: "./scripts/test.sh\n", mode: { run: "check", why: "tests" } },
      { file: "x.md", line: 15, code: "node bench/src/x.ts\n", mode: { run: "check", why: "bench" } },
      {
        file: "x.md",
        line: 19,
        code: "./scripts/demo.sh\n",
        mode: { run: "until", text: "Ctrl-C stops everything" },
      },
      { file: "x.md", line: 25, code: "echo after a ts block\n", mode: { run: "all" } },
      { file: "x.md", line: 29, code: "echo indented\n", mode: { run: "all" } },
      { file: "x.md", line: 33, code: "psql\n", mode: { run: "check", why: "postgresql" } },
    ]);
  });

  it("does not carry a marker past a paragraph to a later block", () => {
    const md = ["<!-- needs: aws -->", "Some text.", `${fence}sh`, "echo hi", fence].join("\n");
    expect(shellBlocks(md, "y.md")[0]?.mode).toEqual({ run: "all" });
  });
});
