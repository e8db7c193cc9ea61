import { render, screen } from "@testing-library/react";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, type Asked } from "../../test/fakeClient";
import type { StatusChange } from "./EndpointStatus";
import { GroupDayStatus } from "./GroupStatus";

const timeline = (status: string) => ({
  day: "2026-12-05",
  until: "2026-12-05T12:00:00+00:00",
  status,
  points: [
    { timestamp: "2026-12-05T00:00:00+00:00", status: "OK" },
    { timestamp: "2026-12-05T06:00:00+00:00", status },
  ],
});

const change = (id: number): StatusChange => ({
  __typename: "StatusChangeEvent",
  id,
  timestamp: "2026-12-05T11:00:00+00:00",
  hostname: "ce01.pic.es",
  serviceType: "ARC-CE",
  metric: "generic.tcp.connect",
  status: "OK",
  previousStatus: "CRITICAL",
  summary: null,
  site: "pic",
});

describe("GroupDayStatus", () => {
  it("shows the site's status now and today's timeline, read again on a live change", async () => {
    const asked: Asked[] = [];
    let status = "CRITICAL";
    const client = fakeClient(() => ({ status: [timeline(status)] }), asked);
    const { rerender } = render(
      <Provider value={client}>
        <GroupDayStatus report="Critical" level="SITE" name="pic" />
      </Provider>,
    );
    expect((await screen.findByText("CRITICAL")).getAttribute("data-status")).toBe("CRITICAL");
    expect(screen.getByRole("figure").textContent).toContain("pic under Critical, 2026-12-05 (UTC): OK 00:00–06:00 UTC; CRITICAL 06:00–12:00 UTC");
    expect(asked[0]).toEqual({
      operation: "MonitoringGroupStatus",
      variables: { report: "Critical", level: "SITE", name: "pic" },
    });

    status = "OK";
    rerender(
      <Provider value={client}>
        <GroupDayStatus report="Critical" level="SITE" name="pic" change={change(7)} />
      </Provider>,
    );
    expect(await screen.findByText("OK", { selector: "[data-status]" })).toBeTruthy();
    expect(asked).toHaveLength(2);
  });

  it("says so where the report covers nothing of the NGI", async () => {
    render(
      <Provider value={fakeClient(() => ({ status: [] }))}>
        <GroupDayStatus report="Critical" level="SUPERGROUP" name="NGI_X" />
      </Provider>,
    );
    expect(await screen.findByText("The report Critical covers no service of this NGI.")).toBeTruthy();
  });
});
