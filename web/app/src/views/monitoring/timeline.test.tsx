import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { StatusTimeline } from "./StatusTimeline";
import { daySegments, metricDayPoints, spanLabel } from "./timeline";

const at = (hm: string) => `2026-12-04T${hm}:00+00:00`;

describe("daySegments", () => {
  it("places each status until the next change, merges repeats and stops at `until`", () => {
    const segments = daySegments(
      [
        { timestamp: at("00:00"), status: "OK" },
        { timestamp: at("06:00"), status: "CRITICAL" },
        { timestamp: at("09:00"), status: "CRITICAL" },
        { timestamp: at("12:00"), status: "OK" },
      ],
      "2026-12-04",
      at("18:00"),
      240,
    );
    expect(segments.map((s) => [s.status, s.x, s.width, spanLabel(s)])).toEqual([
      ["OK", 0, 60, "00:00–06:00 UTC"],
      ["CRITICAL", 60, 60, "06:00–12:00 UTC"],
      ["OK", 120, 60, "12:00–18:00 UTC"],
    ]);
  });

  it("runs a past day to midnight and clamps points outside it", () => {
    const segments = daySegments(
      [
        { timestamp: "2026-12-03T22:00:00+00:00", status: "WARNING" },
        { timestamp: at("12:00"), status: "OK" },
      ],
      "2026-12-04",
      "2026-12-05T00:00:00+00:00",
      24,
    );
    expect(segments.map((s) => [s.status, s.x, s.width])).toEqual([
      ["WARNING", 0, 12],
      ["OK", 12, 12],
    ]);
    expect(spanLabel(segments[1]!)).toBe("12:00–24:00 UTC");
  });
});

describe("StatusTimeline", () => {
  it("says the spans in words beside the picture, coloured by status", () => {
    const { container } = render(
      <StatusTimeline
        title="INFN-T1"
        day="2026-12-04"
        until={at("12:00")}
        points={[
          { timestamp: at("00:00"), status: "OK" },
          { timestamp: at("03:00"), status: "DOWNTIME" },
        ]}
      />,
    );
    expect(container.querySelector("figcaption")?.textContent).toBe(
      "INFN-T1, 2026-12-04 (UTC): OK 00:00–03:00 UTC; DOWNTIME 03:00–12:00 UTC.",
    );
    expect(container.querySelectorAll("rect.monitoring-status-downtime")).toHaveLength(1);
    expect(container.querySelector("[style]")).toBeNull();
  });
});

describe("metricDayPoints", () => {
  it("starts the day with the status before the first change, or the current one", () => {
    expect(
      metricDayPoints("2026-12-04", [{ timestamp: at("06:00"), status: "CRITICAL", previousStatus: "OK" }], "CRITICAL"),
    ).toEqual([
      { timestamp: "2026-12-04T00:00:00+00:00", status: "OK" },
      { timestamp: at("06:00"), status: "CRITICAL" },
    ]);
    expect(metricDayPoints("2026-12-04", [], "WARNING")).toEqual([{ timestamp: "2026-12-04T00:00:00+00:00", status: "WARNING" }]);
    expect(metricDayPoints("2026-12-04", [{ timestamp: at("06:00"), status: "OK", previousStatus: null }], "OK")[0]?.status).toBe(
      "MISSING",
    );
  });
});
