import type { RecommendedItem } from "@gplay/common";
import type { ReaderViewModel } from "../app/reader-view.js";

const html = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 16);

function items(list: readonly RecommendedItem[], showScore: boolean): string {
  if (list.length === 0) return `<p class="empty">nothing to show</p>`;
  return `<ol>${list
    .map(
      (i) => `<li data-page="${html(i.page)}"><a href="${html(i.url)}">${html(i.title || i.page)}</a>
<span class="meta">${html(i.section)} · ${html(i.region)} · <b class="reason">${html(i.reason)}</b>${showScore ? ` · score <span class="score">${i.score.toFixed(4)}</span>` : ""}</span></li>`,
    )
    .join("\n")}</ol>`;
}

/** The reader view as one HTML page (no script; the form is a plain GET). */
export function renderReaderView(view: ReaderViewModel, key: string): string {
  const rec = view.recommendations;
  const reads =
    view.recentReads.length === 0
      ? `<p class="empty">${view.userId === undefined ? "choose a reader" : view.known ? "no reads" : "unknown reader: no reads stored"}</p>`
      : `<ol>${view.recentReads
          .map(
            (r) => `<li data-page="${html(r.page)}">${
              r.article === undefined
                ? `<span>${html(r.page)}</span>`
                : `<a href="${html(r.article.url)}">${html(r.article.title || r.page)}</a>`
            }
<span class="meta">${r.article === undefined ? "not in the catalogue" : `${html(r.article.section)} · ${html(r.article.region)}`} · read ${when(r.readAt)}</span></li>`,
          )
          .join("\n")}</ol>`;
  const served =
    rec === undefined
      ? ""
      : `<p class="served">model version <b id="model-version">${html(rec.modelVersion ?? "none")}</b> · strategy <b>${html(rec.strategy)}</b>${rec.fallback === null ? "" : ` · fallback <b>${html(rec.fallback)}</b>`}</p>`;
  const model =
    view.model === null
      ? `<p class="empty">no model is served: every answer comes from the cold-start lists</p>`
      : `<p>version <b>${html(view.model.version)}</b>${view.model.runId === undefined ? "" : ` · MLflow run <code>${html(view.model.runId)}</code>`}${view.model.unavailable === undefined ? "" : ` · figures unavailable: ${html(view.model.unavailable)}`}</p>
<table id="figures">${Object.entries(view.model.metrics)
          .map(([k, v]) => `<tr><th>${html(k)}</th><td>${Number.isInteger(v) ? v : v.toFixed(4)}</td></tr>`)
          .join("")}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GPlayRecommend · reader view</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:0 0 8px}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}.box{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin-bottom:16px}
li{margin:4px 0}.meta{display:block;color:#666;font-size:12px}.reason{color:#2457a6}.empty{color:#888}
table{border-collapse:collapse}th,td{padding:2px 12px 2px 0;text-align:left;font-weight:normal}td{font-variant-numeric:tabular-nums}
input[name=userId]{width:36em;font-family:monospace}
</style></head><body>
<h1>Reader view</h1>
<form method="get" action="view"><input type="hidden" name="key" value="${html(key)}">
<label>reader <input name="userId" value="${html(view.userId ?? "")}" placeholder="64 hex characters"></label> <button>show</button></form>
<div class="cols">
<section class="box" id="reads"><h2>Recent reads</h2>${reads}</section>
<section class="box" id="recommendations"><h2>Recommendations</h2>${served}${rec === undefined ? `<p class="empty">choose a reader</p>` : items(rec.items, true)}</section>
</div>
<div class="cols">
<section class="box" id="coldstart"><h2>Cold start (a new reader)</h2>${items(view.coldstart.items, false)}</section>
<section class="box" id="model"><h2>Live model: offline figures</h2>${model}</section>
</div>
</body></html>`;
}
