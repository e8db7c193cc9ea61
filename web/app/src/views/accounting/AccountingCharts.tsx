// The accounting page's charts (components/useChart with ECharts' lines, pies, grid and
// legend), loaded with the accounting page only: the metric over time and each dimension's
// shares. Their figures are in tables beside them (charts.ts builds both from the pivots).
import { LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { useChart } from "../../components/useChart";
import { lineOption, pieOption, type Slice, type TimeSeries } from "./charts";

echarts.use([LineChart, PieChart, GridComponent, LegendComponent]);

export function TimeChart({ series, axisName, title }: { series: TimeSeries; axisName: string; title: string }) {
  const holder = useChart(lineOption(series, axisName));
  return <div ref={holder} className="accounting-chart" role="img" aria-label={title} data-testid="accounting-line" />;
}

export function SharesChart({ slices, title, testId }: { slices: Slice[]; title: string; testId: string }) {
  const holder = useChart(pieOption(slices));
  return <div ref={holder} className="accounting-pie" role="img" aria-label={title} data-testid={testId} />;
}
