// The project's usage as a small bar chart (components/useChart, with ECharts' bars, grid and
// legend), loaded with the project page and nowhere else; the table beside the chart holds
// the same figures.
import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent } from "echarts/components";
import * as echarts from "echarts/core";

import { useChart } from "../../components/useChart";

echarts.use([BarChart, GridComponent, LegendComponent]);

export interface UsageBar {
  label: string;
  messagesIn: number;
  messagesOut: number;
}

export function MetricsChart({ bars, title }: { bars: UsageBar[]; title: string }) {
  const holder = useChart({
    animation: false,
    legend: { data: ["Messages in", "Messages out"], bottom: 0 },
    grid: { left: 48, right: 16, top: 16, bottom: 64 },
    xAxis: { type: "category", data: bars.map((b) => b.label) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "Messages in", type: "bar", data: bars.map((b) => b.messagesIn) },
      { name: "Messages out", type: "bar", data: bars.map((b) => b.messagesOut) },
    ],
  });
  // the chart is a picture of the table that follows it
  return <div ref={holder} className="messaging-chart" role="img" aria-label={title} data-testid="messaging-chart" />;
}
