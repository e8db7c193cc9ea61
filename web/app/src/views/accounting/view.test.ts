import { describe, expect, it } from "vitest";
import { defaultView, portalUrl, queryVariables, readView, tabulate, writeView } from "./view";

const NOW = new Date("2026-03-15T12:00:00Z");

describe("the accounting view", () => {
  it("defaults to NGIs by month over the last twelve months, and survives its query string", () => {
    const view = defaultView(NOW);
    expect(view).toMatchObject({ metric: "NORMCPU", rows: "NGI", columns: "MONTH", from: "2025-04", to: "2026-03" });
    const chosen = { ...view, metric: "NJOBS" as const, mine: true, scope: "site" as const, scopeName: "INFN-T1" };
    expect(readView(writeView(chosen), NOW)).toEqual(chosen);
    // nonsense falls back to the default, a scope without a name is no scope
    const bad = readView(new URLSearchParams("metric=X&from=2026-13&rows=USER&scope=site"), NOW);
    expect(bad).toMatchObject({ metric: "NORMCPU", from: "2025-04", rows: "NGI", scope: "", scopeName: "" });
  });

  it("builds the portal's CSV and JSON routes of the same view", () => {
    const view = { ...defaultView(NOW), rows: "SITE" as const, columns: "VO" as const, voGroup: "lhc" };
    expect(portalUrl(view, "csv")).toBe("/accounting/egi/normcpu-hour/SITE/VO/2025/04/2026/03/lhc/onlyinfrajobs/CSV");
    const site = { ...view, metric: "NJOBS" as const, scope: "site" as const, scopeName: "INFN-T1", localJobs: "ONLY_LOCAL" as const };
    expect(portalUrl(site, "json")).toBe("/accounting/egi/site/INFN-T1/njobs/SITE/VO/2025/04/2026/03/lhc/onlylocaljobs/JSON");
    const ngi = { ...view, unit: "DAY" as const, rows: "NGI" as const, columns: "MONTH" as const, scope: "ngi" as const, scopeName: "NGI_IT" };
    expect(portalUrl(ngi, "csv")).toBe(
      "/accounting/egi/htc/operation_centre/NGI_IT/normcpu-day/REGION/DATE/2025/04/2026/03/lhc/onlyinfrajobs/CSV",
    );
    expect(portalUrl({ ...site, mine: true }, "csv")).toBe(
      "/accounting/user/htc/resource_centre/INFN-T1/njobs/SITE/VO/2025/04/2026/03/lhc/onlylocaljobs/CSV",
    );
    expect(portalUrl({ ...view, voGroup: "custom-atlas,cms" }, "csv")).toContain("/custom-atlas%2Ccms/");
  });

  it("gives GraphQL the filter and tabulates the pivot with its totals", () => {
    const view = { ...defaultView(NOW), mine: true, scope: "ngi" as const, scopeName: "NGI_IT" };
    expect(queryVariables(view).filter).toEqual({ voGroup: "all", localJobs: "ONLY_INFRA", mine: true, site: null, ngi: "NGI_IT" });
    const table = tabulate({
      rows: ["A", "B"],
      columns: ["x", "y"],
      cells: [
        { row: "A", column: "x", value: 1 },
        { row: "B", column: "y", value: 3 },
      ],
      rowTotals: [
        { key: "A", value: 1, percent: 25 },
        { key: "B", value: 3, percent: 75 },
      ],
      columnTotals: [
        { key: "x", value: 1, percent: 25 },
        { key: "y", value: 3, percent: 75 },
      ],
      total: 4,
    });
    expect(table.rows).toEqual([
      { key: "A", values: [1, null], total: 1, percent: 25 },
      { key: "B", values: [null, 3], total: 3, percent: 75 },
    ]);
    expect(table.columnPercents).toEqual([25, 75]);
    expect(table.total).toBe(4);
  });
});
