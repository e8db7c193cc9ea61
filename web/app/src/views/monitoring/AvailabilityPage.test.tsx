import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, type Asked } from "../../test/fakeClient";
import AvailabilityPage, { CHART_MAX_PAGES, CHART_PAGE } from "./AvailabilityPage";

const row = (name: string, availability: number) => ({
  name,
  parent: "NGI_IT",
  start: "2026-12-01",
  end: "2026-12-05",
  availability,
  reliability: availability,
  uptime: availability / 100,
  unknown: 0,
  downtime: 0,
});

const PAGES: Record<string, { nodes: ReturnType<typeof row>[]; next: string | null }> = {
  start: { nodes: [row("pic", 99), row("cnaf", 70)], next: "p1" },
  p1: { nodes: [row("desy", 95)], next: null },
};

/** The charted item's days by cursor: pic's 3 days in two pages; "long" never ends (its
 * 1,000 days a day a page). */
function itemPage(name: string, after: string | null) {
  if (name === "long") {
    const n = Number(after ?? 0);
    return { totalCount: 1000, pageInfo: { hasNextPage: true, endCursor: String(n + 1) }, nodes: [{ ...row("long", 90), start: `day${n}` }] };
  }
  return after === null
    ? { totalCount: 3, pageInfo: { hasNextPage: true, endCursor: "d1" }, nodes: [row("pic", 99), { ...row("pic", 98), start: "2026-12-02" }] }
    : { totalCount: 3, pageInfo: { hasNextPage: false, endCursor: "d2" }, nodes: [{ ...row("pic", 70), start: "2026-12-03" }] };
}

/** The overview one page after another (the second after cursor "p1"), and the charted item. */
function answer(operation: string, variables: Record<string, unknown>) {
  if (operation !== "MonitoringAvailabilityOverview") {
    return { availability: itemPage(variables.name as string, (variables.after as string | null) ?? null) };
  }
  const page = PAGES[(variables.after as string | null) ?? "start"]!;
  return {
    availability: { totalCount: 3, pageInfo: { hasNextPage: page.next !== null, endCursor: page.next }, nodes: page.nodes },
  };
}

function renderAt(path: string, asked: Asked[]) {
  render(
    <Provider value={fakeClient(answer, asked)}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/monitoring/reports/:report" element={<AvailabilityPage />} />
        </Routes>
      </MemoryRouter>
    </Provider>,
  );
}

const items = (asked: Asked[]) =>
  asked.filter((a) => a.operation === "MonitoringAvailabilityItem").map((a) => [a.variables.first, a.variables.after]);

describe("AvailabilityPage", () => {
  it("pages the table by cursor, and charts the item's whole range from every page of it", async () => {
    const asked: Asked[] = [];
    renderAt("/monitoring/reports/Critical?granularity=DAILY&from=2026-10-01&to=2026-11-09", asked);
    const pager = await screen.findByRole("navigation", { name: "Pages of sites" });
    expect(pager.textContent).toContain("Showing 2 of 3 sites");
    expect(screen.getByText(/1 of the 2 sites on this page below a target/)).toBeTruthy();
    const chart = await screen.findByTestId("ar-chart");
    expect(chart.getAttribute("aria-label")).toMatch(/: 3 periods, 1 below a target/);
    expect(screen.queryByTestId("ar-item-truncated")).toBeNull();
    expect(items(asked)).toEqual([
      [CHART_PAGE, null],
      [CHART_PAGE, "d1"],
    ]);

    await userEvent.click(screen.getByRole("button", { name: "Next page" }));
    expect(await screen.findByRole("link", { name: "desy" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: "cnaf" })).toBeNull();
    expect(screen.getByRole("button", { name: "First page" })).toBeTruthy();
    const overviews = asked.filter((a) => a.operation === "MonitoringAvailabilityOverview");
    expect(overviews.map((a) => [a.variables.first, a.variables.after])).toEqual([
      [50, null],
      [50, "p1"],
    ]);
  });

  it("reads at most CHART_MAX_PAGES pages for a chart and says where it is cut", async () => {
    const asked: Asked[] = [];
    renderAt("/monitoring/reports/Critical?granularity=DAILY&from=2024-01-01&to=2026-09-26&name=long", asked);
    expect((await screen.findByTestId("ar-item-truncated")).textContent).toContain(
      `the first ${CHART_MAX_PAGES} of 1000 days`,
    );
    expect(items(asked)).toHaveLength(CHART_MAX_PAGES);
  });
});
