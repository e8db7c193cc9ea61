import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { Client, fetchExchange, Provider } from "urql";
import { describe, expect, it } from "vitest";
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

/** A client whose server answers the overview one page after another (cursors "p1", "p2")
 * and the charted item with 3 of its 40 days; it records the variables it was asked. */
function fakeClient(asked: Record<string, unknown>[]) {
  const pages: Record<string, { nodes: ReturnType<typeof row>[]; next: string | null }> = {
    start: { nodes: [row("pic", 99), row("cnaf", 70)], next: "p1" },
    p1: { nodes: [row("desy", 95)], next: null },
  };
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as { operationName: string; variables: Record<string, unknown> };
    asked.push({ operation: body.operationName, ...body.variables });
    const data =
      body.operationName === "MonitoringAvailabilityOverview"
        ? (() => {
            const page = pages[(body.variables.after as string | null) ?? "start"]!;
            return {
              availability: {
                totalCount: 3,
                pageInfo: { hasNextPage: page.next !== null, endCursor: page.next },
                nodes: page.nodes,
              },
            };
          })()
        : { availability: { totalCount: 40, nodes: [row("pic", 99), row("pic", 98), row("pic", 97)] } };
    return new Response(JSON.stringify({ data }), { headers: { "content-type": "application/json" } });
  };
  return new Client({ url: "http://test/graphql", exchanges: [fetchExchange], fetch, preferGetMethod: false });
}

describe("AvailabilityPage", () => {
  it("pages through the report's rows by cursor and says where a chart is cut", async () => {
    const asked: Record<string, unknown>[] = [];
    render(
      <Provider value={fakeClient(asked)}>
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
    expect(overviews.map((a) => [a.first, a.after])).toEqual([
      [50, null],
      [50, "p1"],
    ]);
  });
});
