/**
 * The shell blocks of the project's Markdown: every fenced block in `sh` or `bash`, with the marker
 * written in an HTML comment on the line before it (blank lines between are allowed). The docs test
 * (scripts/test/integration/docs-commands.test.ts) runs each block as written, except:
 *   <!-- needs: aws -->        needs an AWS account (or `needs: postgresql`, another outside system):
 *                              checked with `bash -n` and shellcheck only
 *   <!-- runs: tests -->       runs a test suite (the docs test is itself one): checked, and every
 *                              `pnpm --filter <workspace> <script>` in it must name a real script
 *   <!-- runs: bench -->       runs a benchmark (minutes to an hour): checked like `runs: tests`
 *   <!-- until: TEXT -->       serves until Ctrl-C: run until TEXT is printed, then interrupted
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export type BlockMode =
  | { run: "all" }
  | { run: "until"; text: string }
  /** `why`: "tests", "bench", or the outside system the block needs ("aws", "postgresql"). */
  | { run: "check"; why: string };

export interface ShellBlock {
  /** Repository-relative path of the Markdown file. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  mode: BlockMode;
}

const FENCE_OPEN = /^(\s*)```(sh|bash)\s*$/;
const MARKER = /^\s*<!--\s*(?:needs:\s*([a-z0-9-]+)|runs:\s*(tests|bench)|until:\s*(.+?))\s*-->\s*$/;

function modeOf(marker: RegExpExecArray | null): BlockMode {
  if (marker === null) return { run: "all" };
  if (marker[3] !== undefined) return { run: "until", text: marker[3] };
  return { run: "check", why: marker[1] ?? marker[2] ?? "tests" };
}

/** The shell blocks of one Markdown text, in order. */
export function shellBlocks(markdown: string, file: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const blocks: ShellBlock[] = [];
  let lastNonBlank = -1;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    const open = FENCE_OPEN.exec(text);
    if (open === null) {
      if (text.trim().startsWith("```")) {
        // Another language's block: skip to its end so its content is not read as Markdown.
        const indent = text.indexOf("```");
        for (i++; i < lines.length && !(lines[i] as string).slice(indent).startsWith("```"); i++);
      }
      if (text.trim() !== "") lastNonBlank = i;
      continue;
    }
    const indent = open[1] as string;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && (lines[j] as string).trim() !== "```"; j++)
      body.push(
        (lines[j] as string).startsWith(indent)
          ? (lines[j] as string).slice(indent.length)
          : (lines[j] as string),
      );
    const marker = lastNonBlank >= 0 ? MARKER.exec(lines[lastNonBlank] as string) : null;
    blocks.push({ file, line: i + 1, code: `${body.join("\n")}\n`, mode: modeOf(marker) });
    i = j;
    lastNonBlank = j;
  }
  return blocks;
}

/** README.md, docs/*.md and every other README.md of the repository (no dependencies, no local state). */
export function documentationFiles(repoRoot: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "node_modules" || name.startsWith(".") || name === "dist") continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name === "README.md" || (relative(repoRoot, dir) === "docs" && name.endsWith(".md")))
        out.push(path);
    }
  };
  walk(repoRoot);
  return out.map((p) => relative(repoRoot, p));
}

/** Every shell block of the documentation, file by file. */
export function documentationBlocks(repoRoot: string): ShellBlock[] {
  return documentationFiles(repoRoot).flatMap((file) =>
    shellBlocks(readFileSync(join(repoRoot, file), "utf8"), file),
  );
}
