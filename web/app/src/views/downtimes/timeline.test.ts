import { describe, expect, it } from "vitest";
import {
  assignLanes,
  axisFor,
  feedParams,
  filterVariables,
  layoutTimeline,
  localDate,
  parseTimelineQuery,
  timeTicks,
  timelineParams,
  windowOf,
  type Bar,
  type TimelineItem,
} from "./timeline";

const now = new Date(2026, 11, 3, 12, 0); // local time, 3 Dec 2026 12:00
const h = (hours: number) => new Date(now.getTime() + hours * 3_600_000);
const span = (start: number, end: number) => ({ startsAt: h(start), endsAt: h(end) });

describe("the URL of /downtimes", () => {
  it("defaults to a window from a week ago to 30 days ahead", () => {
    const query = parseTimelineQuery(new URLSearchParams(), now);
    expect(query).toEqual({ show: "window", from: "2026-11-26", to: "2027-01-02", sites: [], ngis: [], severities: [], problems: [] });
    expect(timelineParams(query, now).toString()).toBe("");
  });

  it("reads lists repeated or comma-separated, and round-trips", () => {
    const params = new URLSearchParams("show=ongoing&site=INFN-T1,pic&site=FZK-LCG2&ngi=NGI_IT&severity=outage");
    const query = parseTimelineQuery(params, now);
    expect(query.show).toBe("ongoing");
    expect(query.sites).toEqual(["INFN-T1", "pic", "FZK-LCG2"]);
    expect(query.severities).toEqual(["OUTAGE"]);
    const again = parseTimelineQuery(timelineParams(query, now), now);
    expect(again).toEqual(query);
  });

  it("says which parameters it did not understand and uses the defaults", () => {
    const query = parseTimelineQuery(new URLSearchParams("show=soon&from=yesterday&to=2026-13-01&severity=DOWN"), now);
    expect(query.show).toBe("window");
    expect(query.from).toBe("2026-11-26");
    expect(query.problems).toHaveLength(4);
    expect(query.problems[0]!).toContain("show");
  });

  it("turns into the GraphQL filter", () => {
    const window = parseTimelineQuery(new URLSearchParams("from=2026-12-01&to=2026-12-02&ngi=NGI_DE"), now);
    const { from, to } = windowOf(window);
    expect(filterVariables(window)).toEqual({ windowStart: from.toISOString(), windowEnd: to.toISOString(), ngi: ["NGI_DE"] });
    // the window includes the whole `to` day
    expect(to.getTime() - from.getTime()).toBe(2 * 24 * 3_600_000);
    expect(filterVariables(parseTimelineQuery(new URLSearchParams("show=upcoming&severity=WARNING"), now))).toEqual({
      upcoming: true,
      severity: ["WARNING"],
    });
    expect(filterVariables(parseTimelineQuery(new URLSearchParams("show=ongoing"), now))).toEqual({ ongoing: true });
  });

  it("turns into the feed's parameters", () => {
    const query = parseTimelineQuery(new URLSearchParams("show=ongoing&site=INFN-T1&severity=OUTAGE"), now);
    expect(feedParams(query, now).toString()).toBe("site=INFN-T1&severity=OUTAGE&ongoing=true");
    const window = parseTimelineQuery(new URLSearchParams("from=2026-12-01&to=2026-12-05"), now);
    expect(feedParams(window, now).toString()).toBe("from=2026-12-01&to=2026-12-05");
  });
});

describe("the time axis", () => {
  const window = { from: h(-48), to: h(48) };

  it("is the window when one is asked for", () => {
    expect(axisFor("window", [span(-500, 500)], now, window)).toBe(window);
  });

  it("spans the downtimes and now, with a margin", () => {
    const axis = axisFor("upcoming", [span(10, 20), span(30, 40)], now, window);
    expect(axis.from.getTime()).toBeLessThan(now.getTime());
    expect(axis.to.getTime()).toBeGreaterThan(h(40).getTime());
    expect(axis.to.getTime() - axis.from.getTime()).toBeLessThan(48 * 3_600_000);
  });

  it("is at least a day and at most 30 days back and 90 ahead", () => {
    const empty = axisFor("ongoing", [], now, window);
    expect(empty.to.getTime() - empty.from.getTime()).toBeGreaterThanOrEqual(24 * 3_600_000);
    const huge = axisFor("ongoing", [span(-24 * 400, 24 * 400)], now, window);
    expect(huge.from.getTime()).toBeGreaterThan(h(-24 * 33).getTime());
    expect(huge.to.getTime()).toBeLessThan(h(24 * 96).getTime());
  });
});

describe("lanes", () => {
  it("put overlapping downtimes of a row on separate lanes, reusing freed ones", () => {
    expect(assignLanes([span(0, 10), span(5, 15), span(10, 20), span(16, 18)])).toEqual([0, 1, 0, 1]);
  });

  it("keep the input's order in the answer", () => {
    expect(assignLanes([span(5, 15), span(0, 10)])).toEqual([1, 0]);
    expect(assignLanes([])).toEqual([]);
  });
});

describe("ticks", () => {
  it("fall on local hours for short spans", () => {
    const { ticks, stepHours } = timeTicks(h(0.5), h(10), 10);
    expect(stepHours).toBe(1);
    expect(ticks[0]!.getHours()).toBe(13);
    expect(ticks.every((t) => t.getMinutes() === 0)).toBe(true);
    expect(ticks.length).toBeLessThanOrEqual(10);
  });

  it("fall on local midnights for long spans, no more than asked", () => {
    const { ticks, stepHours } = timeTicks(h(-24 * 7), h(24 * 30), 10);
    expect(stepHours).toBeGreaterThanOrEqual(24);
    expect(ticks.length).toBeLessThanOrEqual(10);
    expect(ticks.every((t) => t.getHours() === 0 && t.getMinutes() === 0)).toBe(true);
    expect(ticks[0]!.getTime()).toBeGreaterThanOrEqual(h(-24 * 7).getTime());
  });
});

describe("layout", () => {
  const axis = { from: h(-24), to: h(72) }; // 96 hours over 800 px: 1 hour = 8.33 px
  const options = { width: 968, labelWidth: 160, laneHeight: 20, rowGap: 10, axisHeight: 30, minBarWidth: 4 };
  const item = (id: string, site: string, start: number, end: number) => ({ id, site, ...span(start, end) });

  it("makes one row per site, sorted, with overlapping downtimes on lanes", () => {
    const layout = layoutTimeline(
      [item("a", "pic", 0, 10), item("b", "INFN-T1", 0, 5), item("c", "INFN-T1", 2, 8)],
      axis,
      now,
      options,
    );
    expect(layout.rows.map((r) => r.site)).toEqual(["INFN-T1", "pic"]);
    expect(layout.rows[0]!.lanes).toBe(2);
    expect(layout.rows[0]!.height).toBe(40);
    expect(layout.rows[1]!.y).toBe(30 + 40 + 10);
    expect(layout.height).toBe(30 + 40 + 10 + 20 + 10);
  });

  it("places bars from start to end and the now line on the scale", () => {
    const layout = layoutTimeline([item("a", "pic", 0, 24)], axis, now, options);
    const bar = layout.rows[0]!.bars[0]!;
    expect(layout.plotLeft).toBe(160);
    expect(layout.nowX).toBeCloseTo(160 + 200);
    expect(bar.x).toBeCloseTo(360);
    expect(bar.width).toBeCloseTo(200);
    expect(bar.clippedStart || bar.clippedEnd).toBe(false);
  });

  it("clips downtimes at the axis' ends, widens tiny ones, hides those outside", () => {
    const layout = layoutTimeline(
      [item("long", "pic", -100, 200), item("tiny", "pic", 1, 1.01), item("past", "pic", -200, -150)],
      axis,
      now,
      options,
    );
    const [long, tiny] = layout.rows[0]!.bars as [Bar<TimelineItem>, Bar<TimelineItem>];
    expect(long.clippedStart && long.clippedEnd).toBe(true);
    expect(long.x).toBe(160);
    expect(long.x + long.width).toBeCloseTo(960);
    expect(tiny.width).toBe(4);
    expect(layout.hidden.map((i) => i.id)).toEqual(["past"]);
  });

  it("has no now line when now is off the axis, and ticks inside the plot", () => {
    const layout = layoutTimeline([], { from: h(24), to: h(48) }, now, options);
    expect(layout.nowX).toBeNull();
    expect(layout.rows).toEqual([]);
    expect(layout.ticks.every((t) => t.x >= 160 && t.x <= 960)).toBe(true);
    expect(localDate(layout.ticks[0]!.at)).toBe("2026-12-04");
  });
});
