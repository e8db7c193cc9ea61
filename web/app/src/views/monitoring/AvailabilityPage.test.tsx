import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, type Asked } from "../../test/fakeClient";
import AvailabilityPage from "./AvailabilityPage";

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

/** The overview one page after another (the second after cursor "p1"), and the charted item with 3 of
 * its 40 days. */
function answer(operation: string, variables: Record<string, unknown>) {
  if (operation !== "MonitoringAvailabilityOverview") {
    return { availability: { totalCount: 40, nodes: [row("pic", 99), row("pic", 98), row("pic", 97)] } };
  }
  const page = PAGES[(variables.after as string | null) ?? "start"]!;
  return {
    availability: { totalCount: 3, pageInfo: { hasNextPage: page.next !== null, endCursor: page.next }, nodes: page.nodes },
  };
}

describe("AvailabilityPage", () => {
  it("pages through the report's rows by cursor and says where a chart is cut", async () => {
    const asked: Asked[] = [];
    render(
      <Provider value={fakeClient(answer, asked)}>
        <MemoryRouter initialEntries={["/monitoring/reports/Critical?granularity=DAILY&from=2026-10-01&to=2026-11-09"]}>
          <Routes>
            <Route path="/monitoring/reports/:report" element={<AvailabilityPage />} />
          </Routes>
        </MemoryRouter>
      </Provider>,
    );
    const pager = await screen.findByRole("navigation", { name: "Pages of sites" });
    expect(pager.textContent).toContain("Showing 2 of 3 sites");
    expect(screen.getByText(/1 of the 2 sites on this page below a target/)).toBeTruthy();
    expect((await screen.findByTestId("ar-item-truncated")).textContent).toContain("the first 3 of 40 days");

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
});
