import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, type Asked } from "../../test/fakeClient";
import RecomputationsPage from "./RecomputationsPage";
import { periodOf, recomputationInput, utcMoment } from "./recomputations";

const row = (id: string, reason: string, manageable: boolean) => ({
  id,
  report: "Critical",
  requesterName: "Jane Doe",
  reason,
  startTime: "2026-12-01T06:00:00+00:00",
  endTime: "2026-12-01T18:00:00+00:00",
  exclude: ["pic"],
  excludeMetrics: [{ metric: "generic.tcp.connect", hostname: "ce01.pic.es", group: null }],
  status: "approved",
  manageable,
});

function answer(operation: string) {
  if (operation === "MonitoringReports") {
    return { monitoringProfiles: { nodes: [{ id: "r1", profileId: "u1", name: "Critical", description: "", date: "2026-01-01" }] } };
  }
  if (operation === "MonitoringCreateRecomputation") return { createRecomputation: { recomputation: { id: "new" } } };
  if (operation === "MonitoringSetRecomputationStatus") {
    return { setRecomputationStatus: { recomputation: { id: "a", status: "rejected" } } };
  }
  return {
    viewer: { subject: "jane@egi.eu" },
    recomputations: {
      totalCount: 2,
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: [row("a", "probe outage", true), row("b", "another NGI's", false)],
    },
  };
}

describe("recomputation input", () => {
  it("reads the times as UTC and the sites as a list", () => {
    expect(utcMoment("2026-12-01T06:00")).toBe("2026-12-01T06:00:00Z");
    expect(utcMoment("")).toBe("");
    const input = recomputationInput({
      report: "Critical",
      reason: " outage ",
      requesterName: "Jane",
      requesterEmail: "jane@example.org",
      startTime: "2026-12-01T06:00",
      endTime: "2026-12-01T18:00",
      exclude: "pic, cnaf ,",
    });
    expect(input).toEqual({
      report: "Critical",
      reason: "outage",
      requesterName: "Jane",
      requesterEmail: "jane@example.org",
      startTime: "2026-12-01T06:00:00Z",
      endTime: "2026-12-01T18:00:00Z",
      exclude: ["pic", "cnaf"],
    });
    expect(periodOf("2026-12-01T06:00:00+00:00", "2026-12-02T18:00:00+00:00")).toBe("2026-12-01 06:00–2026-12-02 18:00 UTC");
  });
});

describe("RecomputationsPage", () => {
  it("lists them, offers status changes and Delete only where allowed, and asks for a new one", async () => {
    const asked: Asked[] = [];
    render(
      <Provider value={fakeClient(answer, asked)}>
        <MemoryRouter initialEntries={["/monitoring/recomputations"]}>
          <RecomputationsPage />
        </MemoryRouter>
      </Provider>,
    );
    const mine = (await screen.findByText("probe outage")).closest("tr")!;
    expect(mine.textContent).toContain("site pic; generic.tcp.connect on ce01.pic.es");
    expect(within(mine).getByRole("button", { name: "Delete the recomputation “probe outage”" })).toBeTruthy();
    const theirs = screen.getByText("another NGI's").closest("tr")!;
    expect(within(theirs).queryByRole("button", { name: /^Delete/ })).toBeNull();
    expect(within(theirs).queryByRole("combobox")).toBeNull();
    expect(theirs.textContent).toContain("approved");

    const user = userEvent.setup();
    const form = await screen.findByRole("form", { name: "Ask for a recomputation" });
    await user.type(within(form).getByLabelText(/^Reason/), "probe host down");
    await user.type(within(form).getByLabelText(/^Requester's name/), "Jane Doe");
    await user.type(within(form).getByLabelText(/^Requester's e-mail/), "jane@example.org");
    await user.type(within(form).getByLabelText(/^Start \(UTC\)/), "2026-12-01T06:00");
    await user.type(within(form).getByLabelText(/^End \(UTC\)/), "2026-12-01T18:00");
    await user.type(within(form).getByLabelText(/^Sites to exclude/), "pic");
    await user.click(within(form).getByRole("button", { name: "Ask for the recomputation" }));
    expect(await screen.findByText(/Recomputation of Critical made/)).toBeTruthy();
    await user.selectOptions(within(mine).getByRole("combobox", { name: "Status of the recomputation “probe outage”" }), "rejected");
    expect(asked.find((a) => a.operation === "MonitoringSetRecomputationStatus")?.variables).toEqual({
      input: { id: "a", status: "rejected" },
    });
    expect(asked.find((a) => a.operation === "MonitoringCreateRecomputation")?.variables).toEqual({
      input: {
        report: "Critical",
        reason: "probe host down",
        requesterName: "Jane Doe",
        requesterEmail: "jane@example.org",
        startTime: "2026-12-01T06:00:00Z",
        endTime: "2026-12-01T18:00:00Z",
        exclude: ["pic"],
      },
    });
  });
});
