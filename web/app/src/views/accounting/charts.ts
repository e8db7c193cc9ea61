// The accounting page's charts as figures and ECharts options, pure (AccountingCharts draws
// them): the chosen metric month by month over the period, one line per key of a dimension
// (the largest few, the rest as "Other"), and each dimension's totals as the shares of a pie.
import type { AccountingDimension, AccountingMetric } from "../../gql/graphql";
import { queryVariables, type AccountingView, type PivotInput } from "./view";

/** How many lines the time chart draws, and slices each pie, before the rest is "Other". */
export const TOP_SERIES = 8;
export const TOP_SLICES = 10;
export const OTHER = "Other";

/** Months, both given in YYYY-MM, from `from` to `to` included. */
export function monthsBetween(from: string, to: string): string[] {
  const [fromYear = 0, fromMonth = 1] = from.split("-").map(Number);
  const [toYear = 0, toMonth = 1] = to.split("-").map(Number);
  const months: string[] = [];
  for (let index = fromYear * 12 + fromMonth - 1; index <= toYear * 12 + toMonth - 1; index += 1) {
    months.push(`${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`);
  }
  return months;
}

/** A ratio (CPU efficiency) neither adds up across keys nor has shares of a total. */
export function isRatio(metric: AccountingMetric): boolean {
  return metric === "CPUEFF";
}

/** What the time chart's lines are: the rows' dimension, or the columns' when the rows are
 * the months (the two are never the same). */
export function seriesDimension(view: AccountingView): AccountingDimension {
  return view.rows === "MONTH" ? view.columns : view.rows;
}

/** The `accounting` variables of the time chart's pivot (its lines by month), or null when the
 * page's own pivot already has the months on one side. */
export function timeVariables(view: AccountingView) {
  if (view.rows === "MONTH" || view.columns === "MONTH") return null;
  return { ...queryVariables(view), columns: "MONTH" as const };
}

/** The pivot with its rows and columns swapped. */
export function transpose(pivot: PivotInput): PivotInput {
  return {
    rows: pivot.columns,
    columns: pivot.rows,
    cells: pivot.cells.map((cell) => ({ row: cell.column, column: cell.row, value: cell.value })),
    rowTotals: pivot.columnTotals,
    columnTotals: pivot.rowTotals,
    total: pivot.total,
  };
}

/** A key as the page shows it ("" is a key the summaries lack). */
export function keyLabel(key: string): string {
  return key || "(none)";
}

export interface Line {
  name: string;
  /** One per month; null: no figure (a ratio of no time). */
  values: (number | null)[];
}

export interface TimeSeries {
  months: string[];
  lines: Line[];
  /** How many keys the pivot had (more than lines when some went to "Other" or were left out). */
  keys: number;
}

/** The lines of a pivot by month (`pivot.columns` months YYYY-MM) over `months`: the `limit`
 * keys with the largest totals and "Other" for the sum of the rest, a missing month 0. A ratio
 * has no sum: its first `limit` keys only, a missing month null. */
export function timeSeries(pivot: PivotInput, months: string[], metric: AccountingMetric, limit = TOP_SERIES): TimeSeries {
  const ratio = isRatio(metric);
  const empty = ratio ? null : 0;
  const cells = new Map(pivot.cells.map((cell) => [`${cell.row}\u0000${cell.column}`, cell.value ?? null]));
  const lineOf = (key: string): Line => ({
    name: keyLabel(key),
    values: months.map((month) => cells.get(`${key}\u0000${month}`) ?? empty),
  });
  const totals = new Map(pivot.rowTotals.map((t) => [t.key, t.value ?? 0]));
  const ranked = ratio ? pivot.rows : [...pivot.rows].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0));
  // "Other" for a single key would hide a name for nothing
  const shown = ranked.slice(0, !ratio && ranked.length <= limit + 1 ? limit + 1 : limit);
  const lines = shown.map(lineOf);
  const rest = ranked.slice(shown.length);
  if (!ratio && rest.length) {
    const others = rest.map(lineOf);
    lines.push({ name: OTHER, values: months.map((_, index) => others.reduce((sum, line) => sum + (line.values[index] ?? 0), 0)) });
  }
  return { months, lines, keys: pivot.rows.length };
}

export interface Slice {
  name: string;
  value: number;
}

/** A dimension's totals as pie slices: the `limit` largest and "Other" for the rest; none
 * for a ratio, and no slice of nothing. */
export function shares(
  totals: { key: string; value?: number | null }[],
  metric: AccountingMetric,
  limit = TOP_SLICES,
): Slice[] {
  if (isRatio(metric)) return [];
  const slices = totals
    .filter((t) => (t.value ?? 0) > 0)
    .map((t) => ({ name: keyLabel(t.key), value: t.value ?? 0 }))
    .sort((a, b) => b.value - a.value);
  if (slices.length <= limit + 1) return slices;
  const rest = slices.slice(limit).reduce((sum, slice) => sum + slice.value, 0);
  return [...slices.slice(0, limit), { name: OTHER, value: rest }];
}

/** The time chart's ECharts option: a line per series over the months, the legend below. */
export function lineOption(series: TimeSeries, axisName: string) {
  return {
    animation: false,
    legend: { bottom: 0, data: series.lines.map((line) => line.name) },
    grid: { left: 80, right: 24, top: 32, bottom: 88 },
    xAxis: { type: "category", boundaryGap: false, data: series.months, axisLabel: { rotate: 30 } },
    yAxis: { type: "value", name: axisName },
    series: series.lines.map((line) => ({
      name: line.name,
      type: "line",
      data: line.values,
      showSymbol: series.months.length <= 24,
      connectNulls: false,
    })),
  };
}

/** A pie's ECharts option: each slice labelled with its name and share. */
export function pieOption(slices: Slice[]) {
  return {
    animation: false,
    series: [
      {
        type: "pie",
        radius: "60%",
        center: ["50%", "50%"],
        data: slices.map((slice) => ({ name: slice.name, value: slice.value })),
        label: { formatter: "{b}: {d} %" },
      },
    ],
  };
}
