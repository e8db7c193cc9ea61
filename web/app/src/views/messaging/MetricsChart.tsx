// The project's usage as a small bar chart: ECharts, tree-shaken (echarts/core with the bar
// chart, grid and the canvas renderer only), loaded with the project page and nowhere else.
// No tooltip: ECharts' tooltips write HTML with style attributes, which the page's
// Content-Security-Policy refuses; the table beside the chart holds the same figures.
import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";

echarts.use([BarChart, GridComponent, LegendComponent, CanvasRenderer]);

export interface UsageBar {
  label: string;
  messagesIn: number;
  messagesOut: number;
}

export function MetricsChart({ bars, title }: { bars: UsageBar[]; title: string }) {
  const holder = useRef<HTMLDivElement>(null);
  const figures = JSON.stringify(bars);
  useEffect(() => {
    const shown = JSON.parse(figures) as UsageBar[];
    if (!holder.current) return;
    const chart = echarts.init(holder.current, undefined, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      legend: { data: ["Messages in", "Messages out"], bottom: 0 },
      grid: { left: 48, right: 16, top: 16, bottom: 64 },
      xAxis: { type: "category", data: shown.map((b) => b.label) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "Messages in", type: "bar", data: shown.map((b) => b.messagesIn) },
        { name: "Messages out", type: "bar", data: shown.map((b) => b.messagesOut) },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      chart.dispose();
    };
  }, [figures]);
  // the chart is a picture of the table that follows it
  return <div ref={holder} className="messaging-chart" role="img" aria-label={title} data-testid="messaging-chart" />;
}
