import { describe, expect, it } from "vitest";
import { belowTarget, defaultRange, formatFraction, formatPercent, layoutArChart, periodLabel, TARGETS } from "./ar";

describe("A/R figures", () => {
  it("checks each figure against its own target; undefined misses none", () => {
    expect(TARGETS).toEqual({ availability: 80, reliability: 85 });
    expect(belowTarget(82, "availability")).toBe(false);
    expect(belowTarget(82, "reliability")).toBe(true);
    expect(belowTarget(null, "availability")).toBe(false);
  });

  it("cuts rather than rounds, so a figure just below a target never reads as on it", () => {
    expect(formatPercent(79.996)).toBe("79.99 %");
    expect(formatPercent(100)).toBe("100.00 %");
    expect(formatPercent(null)).toBe("undefined");
    expect(formatFraction(0.2580)).toBe("25.80 %");
    expect(formatFraction(null)).toBe("—");
  });

  it("names months, cut months and days", () => {
    expect(periodLabel({ start: "2026-11-01", end: "2026-11-30" }, "MONTHLY")).toBe("Nov 2026");
    expect(periodLabel({ start: "2026-12-01", end: "2026-12-04" }, "MONTHLY")).toBe("1–4 Dec 2026");
    expect(periodLabel({ start: "2026-12-04", end: "2026-12-04" }, "DAILY")).toBe("4 Dec");
  });

  it("defaults to three months or the last 30 days, in UTC", () => {
    const today = new Date(Date.UTC(2026, 0, 15, 23, 30));
    expect(defaultRange(today, "MONTHLY")).toEqual({ from: "2025-11-01", to: "2026-01-15" });
    expect(defaultRange(today, "DAILY")).toEqual({ from: "2025-12-17", to: "2026-01-15" });
  });
});

describe("layoutArChart", () => {
  it("puts two bars per period, the target lines where the axis says, and skips undefined figures", () => {
    const layout = layoutArChart(
      [
        { start: "2026-11-01", end: "2026-11-30", availability: 100, reliability: 50 },
        { start: "2026-12-01", end: "2026-12-04", availability: null, reliability: null },
      ],
      "MONTHLY",
      { width: 560, height: 240 },
    );
    const { plot } = layout;
    const yOf = (value: number) => plot.bottom - (value / 100) * (plot.bottom - plot.top);
    expect(layout.targets.map((t) => [t.kind, t.y])).toEqual([
      ["availability", yOf(80)],
      ["reliability", yOf(85)],
    ]);
    const [first, second] = layout.groups;
    expect(first?.bars.map((b) => [b.kind, b.y, b.below])).toEqual([
      ["availability", plot.top, false],
      ["reliability", yOf(50), true],
    ]);
    expect(first?.bars[0]?.x).toBeLessThan(first?.bars[1]?.x ?? 0);
    expect(second?.bars).toEqual([]);
    expect(second?.undefinedKinds).toEqual(["availability", "reliability"]);
    expect(second?.label).toBe("1–4 Dec 2026");
  });

  it("thins the day labels out when a month of days crowds the axis", () => {
    const days = Array.from({ length: 30 }, (_, i) => {
      const day = `2026-11-${String(i + 1).padStart(2, "0")}`;
      return { start: day, end: day, availability: 99, reliability: 99 };
    });
    const shown = layoutArChart(days, "DAILY").groups.filter((g) => g.showLabel);
    expect(shown.length).toBeLessThanOrEqual(12);
    expect(shown[0]?.label).toBe("1 Nov");
  });

  it("keeps a year of days' bars apart, each pair within its own step", () => {
    const days = Array.from({ length: 366 }, (_, i) => {
      const day = new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10);
      return { start: day, end: day, availability: 99, reliability: 99 };
    });
    const { groups } = layoutArChart(days, "DAILY");
    const bars = groups.flatMap((g) => g.bars);
    bars.slice(1).forEach((bar, i) => expect(bar.x).toBeGreaterThanOrEqual(bars[i]!.x + bars[i]!.width - 1e-9));
    expect(groups.filter((g) => g.showLabel).length).toBeLessThanOrEqual(12);
  });
});
