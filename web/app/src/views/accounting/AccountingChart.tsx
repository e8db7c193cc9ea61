// The pivot's row totals as a bar chart: ECharts, tree-shaken as the messaging chart is (bar
// chart, grid, canvas renderer), loaded with the accounting page only. No tooltip (ECharts
// writes it with style attributes, which the Content-Security-Policy refuses): the table
// after the chart holds the same figures.
import { BarChart } from "echarts/charts";
import { GridComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";

echarts.use([BarChart, GridComponent, CanvasRenderer]);

export interface Bar {
  label: string;
  value: number;
}

export function AccountingChart({ bars, title }: { bars: Bar[]; title: string }) {
  const holder = useRef<HTMLDivElement>(null);
  const figures = JSON.stringify(bars);
  useEffect(() => {
    const shown = JSON.parse(figures) as Bar[];
    if (!holder.current) return;
    const chart = echarts.init(holder.current, undefined, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 80, right: 16, top: 16, bottom: 72 },
      xAxis: { type: "category", data: shown.map((b) => b.label), axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: shown.map((b) => b.value) }],
    });
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      chart.dispose();
    };
  }, [figures]);
  // a picture of the table that follows it
  return <div ref={holder} className="accounting-chart" role="img" aria-label={title} data-testid="accounting-chart" />;
}
