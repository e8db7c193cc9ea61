import { describe, expect, it } from "vitest";
import { usageLink, usageMonths } from "./usage";
import { readView } from "./view";

const NOW = new Date("2026-03-15T12:00:00Z");

describe("a site's or an NGI's usage panel", () => {
  it("lays a site's usage out month by month and links to the accounting page's view of it", () => {
    const months = usageMonths({ from: "2026-01", to: "2026-03" }, [{ key: "2026-02", value: 7.5 }], [{ key: "2026-02", value: 3 }]);
    expect(months).toEqual([
      { month: "2026-01", cpu: 0, jobs: 0 },
      { month: "2026-02", cpu: 7.5, jobs: 3 },
      { month: "2026-03", cpu: 0, jobs: 0 },
    ]);
    const link = new URL(usageLink("site", "INFN-T1", NOW), "http://x");
    expect(link.pathname).toBe("/usage");
    expect(readView(link.searchParams, NOW)).toMatchObject({ scope: "site", scopeName: "INFN-T1", rows: "VO", columns: "MONTH" });
    expect(new URL(usageLink("ngi", "NGI_IT", NOW), "http://x").searchParams.get("rows")).toBe("SITE");
  });
});
