import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, Refused, type Asked } from "../../test/fakeClient";
import RecomputationsPage from "./RecomputationsPage";
import { draftOf, EMPTY_RECOMPUTATION, periodOf, recomputationInput, utcMoment } from "./recomputations";

const row = (id: string, reason: string, manageable: boolean) => ({
  __typename: "Recomputation" as const,
  id,
  report: "Critical",
  requesterName: "Jane Doe",
  requesterEmail: manageable ? "jane@example.org" : null,
  reason,
  startTime: "2026-12-01T06:00:00+00:00",
  endTime: "2026-12-01T18:00:00+00:00",
  exclude: ["pic"],
  excludeMetrics: [{ __typename: "RecomputationMetricExclusion" as const, metric: "generic.tcp.connect", hostname: "ce01.pic.es", service: null, group: null }],
  excludeMonitoringSource: [{ __typename: "RecomputationSourceExclusion" as const, host: "mon.egi.eu", startTime: "2026-12-01T00:00:00+00:00", endTime: "2026-12-01T01:00:00+00:00" }],
  appliedStatusChanges: [
    { __typename: "RecomputationStatusChange" as const, state: "OK", group: "pic", service: null, endpoint: null, metric: null, startTime: null, endTime: null },
  ],
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
      ...EMPTY_RECOMPUTATION,
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
      excludeMetrics: [],
      excludeMonitoringSource: [],
      appliedStatusChanges: [],
    });
    // a stored one back into the form and out again: the same input
    const stored = row("a", "probe outage", true);
    expect(recomputationInput(draftOf(stored))).toEqual({
      report: "Critical",
      reason: "probe outage",
      requesterName: "Jane Doe",
      requesterEmail: "jane@example.org",
      startTime: "2026-12-01T06:00:00Z",
      endTime: "2026-12-01T18:00:00Z",
      exclude: ["pic"],
      excludeMetrics: [{ metric: "generic.tcp.connect", hostname: "ce01.pic.es", service: null, group: null }],
      excludeMonitoringSource: [{ host: "mon.egi.eu", startTime: "2026-12-01T00:00:00Z", endTime: "2026-12-01T01:00:00Z" }],
      appliedStatusChanges: [
        { state: "OK", group: "pic", service: null, endpoint: null, metric: null, startTime: null, endTime: null },
      ],
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
    expect(mine.textContent).toContain(
      "site pic; generic.tcp.connect on ce01.pic.es; results of mon.egi.eu (2026-12-01 00:00–2026-12-01 01:00 UTC); OK at pic",
    );
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
        excludeMetrics: [],
        excludeMonitoringSource: [],
        appliedStatusChanges: [],
      },
    });
  });

  it("asks for metric, source and status entries, and shows the server's rule beside the field it names", async () => {
    const asked: Asked[] = [];
    const refuse = (operation: string, variables: Record<string, unknown>) => {
      if (operation !== "MonitoringCreateRecomputation") return answer(operation);
      const input = variables.input as { excludeMetrics: { hostname: string | null }[] };
      if (input.excludeMetrics[0]?.hostname !== "no.such.host") return answer(operation);
      return new Refused([
        {
          message: "input.excludeMetrics[0].hostname: no service of the topology has this host",
          extensions: { code: "BAD_USER_INPUT", field: "input.excludeMetrics[0].hostname", rule: "RECOMPUTATION_HOST_UNKNOWN" },
        },
      ]);
    };
    render(
      <Provider value={fakeClient(refuse, asked)}>
        <MemoryRouter initialEntries={["/monitoring/recomputations?report=Critical"]}>
          <RecomputationsPage />
        </MemoryRouter>
      </Provider>,
    );
    const user = userEvent.setup();
    const form = await screen.findByRole("form", { name: "Ask for a recomputation" });
    await user.type(within(form).getByLabelText(/^Reason/), "probe host down");
    await user.type(within(form).getByLabelText(/^Start \(UTC\)/), "2026-12-01T06:00");
    await user.type(within(form).getByLabelText(/^End \(UTC\)/), "2026-12-01T18:00");
    await user.click(within(form).getByRole("button", { name: "Add a metric exclusion" }));
    await user.click(within(form).getByRole("button", { name: "Add a monitoring source" }));
    await user.click(within(form).getByRole("button", { name: "Add a status change" }));
    const metric = within(form).getByRole("group", { name: "Metric exclusion 1" });
    await user.type(within(metric).getByLabelText(/^Metric/), "generic.tcp.connect");
    await user.type(within(metric).getByLabelText(/^Host/), "no.such.host");
    const source = within(form).getByRole("group", { name: "Monitoring source 1" });
    await user.type(within(source).getByLabelText(/^Monitoring host/), "mon.egi.eu");
    await user.type(within(source).getByLabelText(/^From/), "2026-12-01T00:00");
    await user.type(within(source).getByLabelText(/^Until/), "2026-12-01T01:00");
    const change = within(form).getByRole("group", { name: "Status change 1" });
    await user.selectOptions(within(change).getByLabelText("State"), "CRITICAL");
    await user.type(within(change).getByLabelText(/^Site/), "pic");
    await user.click(within(form).getByRole("button", { name: "Ask for the recomputation" }));

    const problem = await within(metric).findByText("no service of the topology has this host");
    expect(problem.getAttribute("data-rule")).toBe("RECOMPUTATION_HOST_UNKNOWN");
    expect(within(metric).getByLabelText(/^Host/).getAttribute("aria-invalid")).toBe("true");
    expect(within(form).queryByRole("alert")).toBeNull(); // shown beside its field, not above
    const sent = asked.find((a) => a.operation === "MonitoringCreateRecomputation")?.variables.input as Record<string, unknown>;
    expect(sent.excludeMetrics).toEqual([{ metric: "generic.tcp.connect", hostname: "no.such.host", service: null, group: null }]);
    expect(sent.excludeMonitoringSource).toEqual([{ host: "mon.egi.eu", startTime: "2026-12-01T00:00:00Z", endTime: "2026-12-01T01:00:00Z" }]);
    expect(sent.appliedStatusChanges).toEqual([
      { state: "CRITICAL", group: "pic", service: null, endpoint: null, metric: null, startTime: null, endTime: null },
    ]);

    // fixed: made; an entry removed is not sent
    await user.clear(within(metric).getByLabelText(/^Host/));
    await user.click(within(form).getByRole("button", { name: "Remove monitoring source 1" }));
    await user.click(within(form).getByRole("button", { name: "Ask for the recomputation" }));
    expect(await screen.findByText(/Recomputation of Critical made/)).toBeTruthy();
    const made = asked.filter((a) => a.operation === "MonitoringCreateRecomputation").at(-1)?.variables.input as Record<string, unknown>;
    expect(made.excludeMetrics).toEqual([{ metric: "generic.tcp.connect", hostname: null, service: null, group: null }]);
    expect(made.excludeMonitoringSource).toEqual([]);
  });

  it("edits one it may manage: the form holds it whole, and Save replaces it", async () => {
    const asked: Asked[] = [];
    const reply = (operation: string) =>
      operation === "MonitoringUpdateRecomputation" ? { updateRecomputation: { recomputation: { id: "a" } } } : answer(operation);
    render(
      <Provider value={fakeClient(reply, asked)}>
        <MemoryRouter initialEntries={["/monitoring/recomputations"]}>
          <RecomputationsPage />
        </MemoryRouter>
      </Provider>,
    );
    const user = userEvent.setup();
    const theirs = (await screen.findByText("another NGI's")).closest("tr")!;
    expect(within(theirs).queryByRole("button", { name: /^Edit/ })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Edit the recomputation “probe outage”" }));
    const form = screen.getByRole("form", { name: "Edit the recomputation “probe outage”" });
    expect((within(form).getByLabelText(/^Requester's e-mail/) as HTMLInputElement).value).toBe("jane@example.org");
    const change = within(form).getByRole("group", { name: "Status change 1" });
    expect((within(change).getByLabelText(/^Site/) as HTMLInputElement).value).toBe("pic");
    await user.selectOptions(within(change).getByLabelText("State"), "UNKNOWN");
    await user.click(within(form).getByRole("button", { name: "Save the recomputation" }));
    expect(await screen.findByText(/Recomputation “probe outage” saved/)).toBeTruthy();
    expect(screen.getByRole("form", { name: "Ask for a recomputation" })).toBeTruthy();
    const input = asked.find((a) => a.operation === "MonitoringUpdateRecomputation")?.variables.input as Record<string, unknown>;
    expect(input.id).toBe("a");
    expect(input.exclude).toEqual(["pic"]);
    expect(input.appliedStatusChanges).toEqual([
      { state: "UNKNOWN", group: "pic", service: null, endpoint: null, metric: null, startTime: null, endTime: null },
    ]);
  });
});
