// Scratch: self-time summary of a .cpuprofile by function and by package.
import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const self = new Map(); const byId = new Map(p.nodes.map((n) => [n.id, n]));
const dt = new Map(); for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
let total = 0; const byPkg = new Map();
for (const [id, t] of dt) { const n = byId.get(id); const f = n.callFrame; if (f.functionName === "(idle)") continue; total += t;
  const key = `${f.functionName || "(anon)"} ${f.url.replace(/.*node_modules\/\.pnpm\//, "").replace(/.*\/node_modules\//, "")}:${f.lineNumber}`; self.set(key, (self.get(key) ?? 0) + t);
  let pkg = f.url.match(/node_modules\/(@[^/]+\/[^/]+|[^@/][^/]*)\/(?!.*node_modules)/)?.[1] ?? (f.url.startsWith("node:") ? f.url.split("/")[0] + "/" + (f.url.split("/")[2] ?? f.url) : f.url ? "app" : f.functionName);
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t); }
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, t]) => `${(100 * t / total).toFixed(1).padStart(5)}% ${n}`).join("\n");
console.log(`total ${(total / 1000).toFixed(0)} ms\n--- by package\n${top(byPkg, 25)}\n--- by function\n${top(self, Number(process.argv[3] ?? 40))}`);
