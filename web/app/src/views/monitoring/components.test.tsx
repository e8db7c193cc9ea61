import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ArChart } from "./ArChart";
import { changeSentence } from "./EndpointStatus";
import { StatusBadge } from "./StatusBadge";

describe("ArChart", () => {
  it("is one named picture with both target lines and no style attribute", () => {
    const { container } = render(
      <ArChart
        title="A/R of site pic per month"
        granularity="MONTHLY"
        points={[
          { start: "2026-11-01", end: "2026-11-30", availability: 99, reliability: 99 },
          { start: "2026-12-01", end: "2026-12-04", availability: 70, reliability: 70 },
        ]}
      />,
    );
    const picture = screen.getByRole("img");
    expect(picture.getAttribute("aria-label")).toBe(
      "A/R of site pic per month: 2 periods, 1 below a target. The table below holds the figures.",
    );
    expect([...container.querySelectorAll("[data-target]")].map((t) => t.getAttribute("data-target"))).toEqual(["80", "85"]);
    expect(container.querySelectorAll("rect.ar-below")).toHaveLength(2);
    expect(container.querySelector("[style]")).toBeNull();
  });
});

describe("StatusBadge", () => {
  it("says the status in words, coloured by its class", () => {
    render(<StatusBadge status="CRITICAL" />);
    expect(screen.getByText("CRITICAL").className).toContain("monitoring-status-critical");
  });
});

describe("changeSentence", () => {
  it("says which metric on which host turned what, and what it was", () => {
    const change = {
      __typename: "StatusChangeEvent" as const,
      id: 7,
      timestamp: "2026-12-05T00:20:00+00:00",
      hostname: "ce01.example",
      serviceType: "ARC-CE",
      metric: "generic.tcp.connect",
      status: "CRITICAL",
      previousStatus: "OK",
      summary: null,
      site: "pic",
    };
    expect(changeSentence(change)).toMatch(/^generic\.tcp\.connect on ce01\.example is CRITICAL \(was OK\) since /);
    expect(changeSentence({ ...change, previousStatus: null })).not.toContain("was");
  });
});
