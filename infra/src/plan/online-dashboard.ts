import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS, ONLINE_DIMENSIONS } from "@gplay/common";

/**
 * The online loop's dashboard widgets (docs/online.md), as data: CTR@k, clicks per list and ranking
 * latency per (ModelVersion, Arm, Strategy). Versions come and go, so each graph finds its series with
 * a SEARCH over the online dimensions (bounded: a few versions, three arms, three strategies).
 */
export function onlineWidgets(region: string, environment: string, top: number): unknown[] {
  const dims = [METRIC_NAMESPACE, ...METRIC_DIMENSIONS, ...ONLINE_DIMENSIONS].join(",");
  const search = (metric: keyof typeof METRICS, stat: string, id: string, visible: boolean) => ({
    expression: `SEARCH('{${dims}} MetricName="${METRICS[metric].name}" Environment="${environment}"', '${stat}', 300)`,
    id,
    visible,
  });
  const graph = (title: string, x: number, y: number, metrics: unknown[]) => ({
    type: "metric",
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region, view: "timeSeries", period: 300, metrics },
  });
  return [
    graph("Online CTR@k per model version, arm and strategy", 0, top, [
      [search("apiClickedImpressions", "Sum", "clicked", false)],
      [search("apiImpressions", "Sum", "lists", false)],
      [{ expression: "clicked / lists", id: "ctr", label: "CTR@k" }],
    ]),
    graph("Clicks per list per model version, arm and strategy", 12, top, [
      [search("apiAttributedClicks", "Sum", "clicks", false)],
      [search("apiImpressions", "Sum", "served", false)],
      [{ expression: "clicks / served", id: "cpl", label: "clicks per list" }],
    ]),
    graph("Lists served per model version, arm and strategy", 0, top + 6, [
      [search("apiImpressions", "Sum", "n", true)],
    ]),
    graph("Ranking latency (max) per model version, arm and strategy", 12, top + 6, [
      [search("apiArmLatency", "Maximum", "latency", true)],
    ]),
  ];
}
