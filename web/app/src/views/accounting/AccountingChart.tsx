// The pivot's row totals as a bar chart (components/useBarChart), loaded with the accounting
// page only; the table after the chart holds the same figures.
import { useBarChart } from "../../components/useBarChart";

export interface Bar {
  label: string;
  value: number;
}

export function AccountingChart({ bars, title }: { bars: Bar[]; title: string }) {
  const holder = useBarChart({
    animation: false,
    grid: { left: 80, right: 16, top: 16, bottom: 72 },
    xAxis: { type: "category", data: bars.map((b) => b.label), axisLabel: { rotate: 30 } },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: bars.map((b) => b.value) }],
  });
  // a picture of the table that follows it
  return <div ref={holder} className="accounting-chart" role="img" aria-label={title} data-testid="accounting-chart" />;
}
