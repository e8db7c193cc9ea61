import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, type Asked } from "../../test/fakeClient";
import { PublicationPanel } from "./PublicationPanel";

const months = [
  { month: "2026-10", jobRecords: 1200, summaries: 3, normalisedSummaries: 0, siteSays: 1200, inSync: true, sync: [] },
  {
    month: "2026-11",
    jobRecords: 7,
    summaries: 1,
    normalisedSummaries: 2,
    siteSays: 9,
    inSync: false,
    sync: [
      { submitHost: "ce1.example", siteSays: 5, held: 5, inSync: true },
      { submitHost: "ce2.example", siteSays: 4, held: 2, inSync: false },
    ],
  },
];
const LAST = { messageId: "m-42", publisher: "/CN=apel.example", kind: "sync" };

function panel(lastMessage: typeof LAST | null, asked: Asked[] = []) {
  const client = fakeClient(
    () => ({ accountingPublication: { site: "INFN-T1", lastPublished: "2026-11-30T23:10:00+00:00", lastMessage, months } }),
    asked,
  );
  return render(
    <Provider value={client}>
      <MemoryRouter>
        <PublicationPanel site="INFN-T1" />
      </MemoryRouter>
    </Provider>,
  );
}

describe("a site's accounting publication panel", () => {
  it("shows the months held, marks the disagreeing one and each host's counts", async () => {
    const asked: Asked[] = [];
    panel(null, asked);
    const table = await screen.findByTestId("publication-table");
    expect(screen.getByTestId("publication-last").textContent).toBe("Last published 2026-11-30 23:10 UTC.");
    const [october, november] = within(table).getAllByRole("row").slice(1) as [HTMLElement, HTMLElement];
    expect(october.className).toBe("");
    expect(within(october).getByText("Agrees")).toBeTruthy();
    expect(within(october).getByText("1,200", { selector: "td:first-of-type" })).toBeTruthy();
    expect(november.className).toBe("publication-disagrees");
    expect(within(november).getByText("Disagrees")).toBeTruthy();
    const hosts = within(november).getByRole("list", { name: "Sync of 2026-11 per submit host" });
    expect(within(hosts).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "ce1.example: says 5, held 5",
      "ce2.example: says 4, held 2 (disagrees)",
    ]);
    expect(screen.getByTestId("publication-sync-summary").textContent).toContain("disagree with the jobs held in 2026-11.");
    // the last message only when the API gives it
    expect(screen.queryByTestId("publication-last-message")).toBeNull();
    expect(asked.map((a) => a.variables.site)).toEqual(["INFN-T1"]);
    expect(asked[0]?.variables.from).toMatch(/^\d{4}-\d{2}$/);
  });

  it("names the last message when the API gives it", async () => {
    panel(LAST);
    const last = await screen.findByTestId("publication-last-message");
    expect(last.textContent).toBe("The last message: m-42 (sync) from /CN=apel.example.");
  });
});
