import { describe, expect, it } from "vitest";
import { lineOption, monthsBetween, pieOption, shares, timeSeries, timeVariables, transpose } from "./charts";
import { defaultView, readView, type PivotInput } from "./view";

const NOW = new Date("2026-03-15T12:00:00Z");

/** A pivot of keys by month: `figures[key][month]`, totals summed. */
function byMonth(figures: Record<string, Record<string, number>>): PivotInput {
  const rows = Object.keys(figures).sort();
  const cells = rows.flatMap((row) => Object.entries(figures[row] ?? {}).map(([column, value]) => ({ row, column, value })));
  const columns = [...new Set(cells.map((cell) => cell.column))].sort();
  const sum = (pick: (cell: (typeof cells)[number]) => boolean) => cells.filter(pick).reduce((s, c) => s + c.value, 0);
  return {
    rows,
    columns,
    cells,
    rowTotals: rows.map((key) => ({ key, value: sum((c) => c.row === key) })),
    columnTotals: columns.map((key) => ({ key, value: sum((c) => c.column === key) })),
    total: sum(() => true),
  };
}

describe("the accounting charts", () => {
  it("counts the months of a period across a year's end", () => {
    expect(monthsBetween("2025-11", "2026-02")).toEqual(["2025-11", "2025-12", "2026-01", "2026-02"]);
    expect(monthsBetween("2026-03", "2026-03")).toEqual(["2026-03"]);
  });

  it("asks a pivot by month of its own only when the page's has no months", () => {
    const view = { ...defaultView(NOW), rows: "SITE" as const, columns: "VO" as const };
    expect(timeVariables(view)).toMatchObject({ rows: "SITE", columns: "MONTH", metric: "NORMCPU" });
    expect(timeVariables(defaultView(NOW))).toBeNull(); // NGIs by month
    expect(timeVariables(readView(new URLSearchParams("rows=MONTH&columns=VO"), NOW))).toBeNull();
    const pivot = byMonth({ A: { "2026-01": 1 } });
    expect(transpose(transpose(pivot))).toEqual(pivot);
    expect(transpose(pivot).rows).toEqual(["2026-01"]);
  });

  it("draws the largest keys month by month and the rest as Other, a missing month 0", () => {
    const months = monthsBetween("2026-01", "2026-03");
    const pivot = byMonth({ a: { "2026-01": 1 }, b: { "2026-01": 5, "2026-03": 5 }, c: { "2026-02": 3 }, "": { "2026-03": 2 } });
    const series = timeSeries(pivot, months, "NORMCPU", 2);
    expect(series.keys).toBe(4);
    expect(series.lines).toEqual([
      { name: "b", values: [5, 0, 5] },
      { name: "c", values: [0, 3, 0] },
      { name: "Other", values: [1, 0, 2] }, // a and the key the summaries lack
    ]);
    // one key more than the limit is drawn itself rather than as Other
    expect(timeSeries(pivot, months, "NORMCPU", 3).lines.map((l) => l.name)).toEqual(["b", "c", "(none)", "a"]);
    // a ratio has no sum: the first keys, no Other, a missing month no figure
    const ratio = timeSeries(pivot, months, "CPUEFF", 2);
    expect(ratio.lines).toEqual([
      { name: "(none)", values: [null, null, 2] },
      { name: "a", values: [1, null, null] },
    ]);
    const option = lineOption(series, "Jobs");
    expect(option.xAxis.data).toEqual(months);
    expect(option.legend.data).toEqual(["b", "c", "Other"]);
    expect(option.series.map((s) => [s.type, s.name, s.data])).toEqual([
      ["line", "b", [5, 0, 5]],
      ["line", "c", [0, 3, 0]],
      ["line", "Other", [1, 0, 2]],
    ]);
  });

  it("shares a dimension's totals out as pie slices, the smallest as Other", () => {
    const totals = [
      { key: "x", value: 1 },
      { key: "y", value: 6 },
      { key: "z", value: 3 },
      { key: "w", value: 0 },
      { key: "v", value: null },
    ];
    expect(shares(totals, "NJOBS", 1)).toEqual([
      { name: "y", value: 6 },
      { name: "Other", value: 4 },
    ]);
    expect(shares(totals, "NJOBS", 2).map((s) => s.name)).toEqual(["y", "z", "x"]);
    expect(shares(totals, "CPUEFF")).toEqual([]);
    const option = pieOption(shares(totals, "NJOBS"));
    expect(option.series[0]?.type).toBe("pie");
    expect(option.series[0]?.data).toEqual([
      { name: "y", value: 6 },
      { name: "z", value: 3 },
      { name: "x", value: 1 },
    ]);
  });
});
