/**
 * The evaluation report's plots, as self-contained SVG strings: NDCG@10 / HR@10 bars per method and
 * the training loss curve.
 */
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function metricBarsSvg(
  title: string,
  rows: readonly { method: string; ndcg10: number; hr10: number }[],
): string {
  const width = 640;
  const barH = 14;
  const rowH = 2 * barH + 14;
  const left = 150;
  const height = 40 + rows.length * rowH + 20;
  const max = Math.max(1e-9, ...rows.flatMap((r) => [r.ndcg10, r.hr10]));
  const scale = (v: number) => ((width - left - 80) * v) / max;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${width - 190}" y="8" width="10" height="10" fill="#3b6fb6"/><text x="${width - 175}" y="17">NDCG@10</text>`,
    `<rect x="${width - 100}" y="8" width="10" height="10" fill="#e39b2d"/><text x="${width - 85}" y="17">HR@10</text>`,
  ];
  rows.forEach((r, i) => {
    const y = 36 + i * rowH;
    parts.push(`<text x="10" y="${y + barH + 4}">${esc(r.method)}</text>`);
    parts.push(
      `<rect x="${left}" y="${y}" width="${scale(r.ndcg10).toFixed(1)}" height="${barH}" fill="#3b6fb6"/>`,
    );
    parts.push(`<text x="${left + scale(r.ndcg10) + 4}" y="${y + 11}">${r.ndcg10.toFixed(4)}</text>`);
    parts.push(
      `<rect x="${left}" y="${y + barH}" width="${scale(r.hr10).toFixed(1)}" height="${barH}" fill="#e39b2d"/>`,
    );
    parts.push(`<text x="${left + scale(r.hr10) + 4}" y="${y + barH + 11}">${r.hr10.toFixed(4)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function lossCurveSvg(series: Record<string, readonly number[]>): string {
  const width = 640;
  const height = 320;
  const pad = 40;
  const all = Object.values(series).flat();
  const n = Math.max(2, ...Object.values(series).map((s) => s.length));
  const lo = Math.min(...all, 0);
  const hi = Math.max(...all, 1e-9);
  const x = (i: number) => pad + ((width - 2 * pad) * i) / (n - 1);
  const y = (v: number) => height - pad - ((height - 2 * pad) * (v - lo)) / (hi - lo || 1);
  const colours = ["#3b6fb6", "#e39b2d", "#4a9b5f", "#b63b3b"];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Loss per epoch</text>`,
    `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#444"/>`,
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#444"/>`,
    `<text x="${pad - 30}" y="${pad}">${hi.toFixed(3)}</text><text x="${pad - 30}" y="${height - pad}">${lo.toFixed(3)}</text>`,
  ];
  Object.entries(series).forEach(([name, values], k) => {
    const c = colours[k % colours.length] as string;
    const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>`);
    parts.push(`<text x="${width - 150}" y="${40 + 16 * k}" fill="${c}">${esc(name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

type Segment = "history" | "cold";
const SEGMENT_LABEL: Record<Segment, string> = { history: "readers with history", cold: "new readers" };

/**
 * The per-segment table of a window as Markdown: every method's NDCG@10 / HR@10 / MRR / coverage for
 * readers with history and new readers, and each method's NDCG@10 ratio to the best baseline.
 */
export function segmentTable(
  title: string,
  methods: Readonly<
    Record<
      string,
      Record<Segment, { ndcg10: number; hr10: number; mrr: number; coverage: number; readers: number }>
    >
  >,
  baselines: readonly string[],
  /** The model ÷ each segment's best baseline with its bootstrap interval, printed under the table. */
  intervals?: Readonly<
    Record<Segment, { ratio: number; low: number; high: number; readers: number; baseline: string }>
  >,
): string {
  const lines = [`### ${title}`, ""];
  for (const segment of ["history", "cold"] as const) {
    const best = Math.max(1e-12, ...baselines.map((b) => methods[b]?.[segment].ndcg10 ?? 0));
    lines.push(
      `**${SEGMENT_LABEL[segment]}**`,
      "",
      "| method | NDCG@10 | HR@10 | MRR | coverage | readers | NDCG@10 ÷ best baseline |",
      "|---|---|---|---|---|---|---|",
    );
    for (const [method, f] of Object.entries(methods)) {
      const x = f[segment];
      lines.push(
        `| ${method} | ${x.ndcg10.toFixed(4)} | ${x.hr10.toFixed(4)} | ${x.mrr.toFixed(4)} | ${x.coverage.toFixed(4)} | ${x.readers} | ${(x.ndcg10 / best).toFixed(3)} |`,
      );
    }
    const r = intervals?.[segment];
    if (r !== undefined)
      lines.push(
        "",
        `model ÷ ${r.baseline}: ${r.ratio.toFixed(3)} (90 % paired-bootstrap interval over the ${r.readers} readers: ${r.low.toFixed(3)}–${r.high.toFixed(3)})`,
      );
    lines.push("");
  }
  return lines.join("\n");
}
