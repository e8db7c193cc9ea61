import { render, screen } from "@testing-library/react";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, type Asked } from "../../test/fakeClient";
import { useSiteStatuses } from "./siteStatuses";

function Shown({ report, pause = false }: { report: string | null; pause?: boolean }) {
  const { statuses } = useSiteStatuses(report, pause, 0);
  const text = statuses ? [...statuses].map(([site, status]) => `${site}=${status}`).join(",") : "none";
  return <p data-testid="statuses">{text}</p>;
}

const change = {
  id: 3,
  timestamp: "2026-12-05T11:00:00+00:00",
  hostname: "ce01.cr.cnaf.infn.it",
  serviceType: "ARC-CE",
  metric: "generic.tcp.connect",
  status: "CRITICAL",
  previousStatus: "OK",
  summary: null,
  site: "cnaf",
};

function answer(operation: string) {
  if (operation === "MonitoringSiteStatuses") {
    return { status: [{ name: "pic", status: "OK" }, { name: "cnaf", status: "OK" }] };
  }
  if (operation === "MonitoringStatusChanges") return { statusChanges: change };
  return { status: [{ day: "2026-12-05", until: "2026-12-05T11:00:00+00:00", status: "CRITICAL", points: [] }] };
}

describe("useSiteStatuses", () => {
  it("reads every site's status, then again the one site a change names", async () => {
    const asked: Asked[] = [];
    render(
      <Provider value={fakeClient(answer, asked)}>
        <Shown report="Critical" />
      </Provider>,
    );
    expect(await screen.findByText("pic=OK,cnaf=CRITICAL")).toBeTruthy();
    expect(asked.find((a) => a.operation === "MonitoringGroupStatus")?.variables).toEqual({
      report: "Critical",
      level: "SITE",
      name: "cnaf",
    });
  });

  it("asks and hears nothing while paused or without a report", async () => {
    const asked: Asked[] = [];
    render(
      <Provider value={fakeClient(answer, asked)}>
        <Shown report="Critical" pause />
        <Shown report={null} />
      </Provider>,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.getAllByTestId("statuses").map((p) => p.textContent)).toEqual(["none", "none"]);
    expect(asked).toEqual([]);
  });
});
