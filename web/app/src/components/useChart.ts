// A chart drawn by ECharts, tree-shaken: echarts/core with the canvas renderer only; each
// chart's module registers the chart types and components it draws with (`echarts.use`), so
// a page's lazy chunk holds those alone. The chart is drawn in the element the returned ref is
// put on, drawn again when the option's figures change (compared as JSON, so a new object with
// the same figures draws nothing), resized with the window, disposed with the component. No
// tooltips: ECharts writes them with style attributes, which the page's
// Content-Security-Policy refuses; the pages put a table with the same figures beside their
// charts.
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";

echarts.use([CanvasRenderer]);

export function useChart(option: echarts.EChartsCoreOption) {
  const holder = useRef<HTMLDivElement>(null);
  const figures = JSON.stringify(option);
  useEffect(() => {
    if (!holder.current) return;
    const chart = echarts.init(holder.current, undefined, { renderer: "canvas" });
    chart.setOption(JSON.parse(figures) as echarts.EChartsCoreOption);
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      chart.dispose();
    };
  }, [figures]);
  return holder;
}
