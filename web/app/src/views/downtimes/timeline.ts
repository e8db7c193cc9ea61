// The timeline's arithmetic, apart from React: which downtimes the URL asks for, the time
// axis, rows per site with overlapping downtimes in lanes, bars and ticks.

export type Show = "window" | "ongoing" | "upcoming";
export type Severity = "OUTAGE" | "WARNING";

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
export const DEFAULT_PAST_DAYS = 7;
export const DEFAULT_FUTURE_DAYS = 30;

/** What the URL of /downtimes says (every filter shareable). */
export interface TimelineQuery {
  show: Show;
  /** Local dates (YYYY-MM-DD) of the window; the window includes the whole `to` day. */
  from: string;
  to: string;
  sites: string[];
  ngis: string[];
  severities: Severity[];
  /** Parameters that were not understood, in words; the defaults are used instead. */
  problems: string[];
}

/** The GraphQL DowntimeFilter for a query. */
export interface DowntimeFilterVariables {
  ongoing?: boolean;
  upcoming?: boolean;
  windowStart?: string;
  windowEnd?: string;
  site?: string[];
  ngi?: string[];
  severity?: Severity[];
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

export function localDate(moment: Date): string {
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`;
}

/** A local date's first moment; null when `value` is not a date. */
export function parseLocalDate(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year = 0, month = 0, day = 0] = match.slice(1).map(Number);
  const moment = new Date(year, month - 1, day);
  if (moment.getFullYear() !== year || moment.getMonth() !== month - 1 || moment.getDate() !== day) return null;
  return moment;
}

function addDays(moment: Date, days: number): Date {
  const copy = new Date(moment);
  copy.setDate(copy.getDate() + days);
  return copy;
}

function startOfDay(moment: Date): Date {
  return new Date(moment.getFullYear(), moment.getMonth(), moment.getDate());
}

function list(params: URLSearchParams, name: string): string[] {
  return params
    .getAll(name)
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value !== "");
}

export function parseTimelineQuery(params: URLSearchParams, now: Date): TimelineQuery {
  const problems: string[] = [];
  const rawShow = params.get("show") ?? "window";
  let show: Show = "window";
  if (rawShow === "window" || rawShow === "ongoing" || rawShow === "upcoming") show = rawShow;
  else problems.push(`show: "${rawShow}" is not one of window, ongoing, upcoming`);

  const today = startOfDay(now);
  let from = localDate(addDays(today, -DEFAULT_PAST_DAYS));
  let to = localDate(addDays(today, DEFAULT_FUTURE_DAYS));
  const rawFrom = params.get("from");
  const rawTo = params.get("to");
  if (rawFrom !== null) {
    if (parseLocalDate(rawFrom)) from = rawFrom;
    else problems.push(`from: "${rawFrom}" is not a date (YYYY-MM-DD)`);
  }
  if (rawTo !== null) {
    if (parseLocalDate(rawTo)) to = rawTo;
    else problems.push(`to: "${rawTo}" is not a date (YYYY-MM-DD)`);
  }
  const severities: Severity[] = [];
  for (const value of list(params, "severity")) {
    const upper = value.toUpperCase();
    if (upper === "OUTAGE" || upper === "WARNING") {
      if (!severities.includes(upper)) severities.push(upper);
    } else problems.push(`severity: "${value}" is not OUTAGE or WARNING`);
  }
  return { show, from, to, sites: list(params, "site"), ngis: list(params, "ngi"), severities, problems };
}

/** The URL parameters for a query: defaults left out, so that the plain /downtimes stays plain. */
export function timelineParams(query: Omit<TimelineQuery, "problems">, now: Date): URLSearchParams {
  const params = new URLSearchParams();
  const defaults = parseTimelineQuery(new URLSearchParams(), now);
  if (query.show !== "window") params.set("show", query.show);
  if (query.show === "window") {
    if (query.from !== defaults.from) params.set("from", query.from);
    if (query.to !== defaults.to) params.set("to", query.to);
  }
  if (query.sites.length) params.set("site", query.sites.join(","));
  if (query.ngis.length) params.set("ngi", query.ngis.join(","));
  if (query.severities.length) params.set("severity", query.severities.join(","));
  return params;
}

/** The window's moments: from the first moment of `from` to the end of the `to` day. */
export function windowOf(query: Pick<TimelineQuery, "from" | "to">): { from: Date; to: Date } {
  const from = parseLocalDate(query.from) as Date;
  const to = addDays(parseLocalDate(query.to) as Date, 1);
  return { from, to };
}

export function filterVariables(query: TimelineQuery): DowntimeFilterVariables {
  const filter: DowntimeFilterVariables = {};
  if (query.show === "ongoing") filter.ongoing = true;
  else if (query.show === "upcoming") filter.upcoming = true;
  else {
    const { from, to } = windowOf(query);
    filter.windowStart = from.toISOString();
    filter.windowEnd = to.toISOString();
  }
  if (query.sites.length) filter.site = query.sites;
  if (query.ngis.length) filter.ngi = query.ngis;
  if (query.severities.length) filter.severity = query.severities;
  return filter;
}

/** The feed parameters (README "Feeds") for the same downtimes. */
export function feedParams(query: TimelineQuery, now: Date): URLSearchParams {
  const params = new URLSearchParams();
  if (query.sites.length) params.set("site", query.sites.join(","));
  if (query.ngis.length) params.set("ngi", query.ngis.join(","));
  if (query.severities.length) params.set("severity", query.severities.join(","));
  if (query.show === "ongoing") params.set("ongoing", "true");
  // the feeds have no "upcoming": from now on (which includes the ongoing ones)
  else if (query.show === "upcoming") params.set("from", now.toISOString());
  else {
    params.set("from", query.from);
    params.set("to", query.to);
  }
  return params;
}

export interface Span {
  startsAt: Date;
  endsAt: Date;
}

/** The time axis: the window as asked; for ongoing and upcoming downtimes, what they span
 * and now, with a margin, at least a day, within 30 days before and 90 days after now. */
export function axisFor(show: Show, items: Span[], now: Date, window: { from: Date; to: Date }): { from: Date; to: Date } {
  if (show === "window") return window;
  let low = now.getTime();
  let high = now.getTime();
  for (const item of items) {
    low = Math.min(low, item.startsAt.getTime());
    high = Math.max(high, item.endsAt.getTime());
  }
  const span = Math.max(high - low, DAY_MS);
  const margin = span * 0.05;
  return {
    from: new Date(Math.max(low - margin, now.getTime() - 30 * DAY_MS)),
    to: new Date(Math.min(low + span + margin, now.getTime() + 90 * DAY_MS)),
  };
}

export interface TimelineItem extends Span {
  id: string;
  site: string;
}

export interface Bar<T extends TimelineItem> {
  item: T;
  lane: number;
  x: number;
  width: number;
  /** The downtime goes on beyond the axis at that end. */
  clippedStart: boolean;
  clippedEnd: boolean;
}

export interface Row<T extends TimelineItem> {
  site: string;
  y: number;
  height: number;
  lanes: number;
  bars: Bar<T>[];
}

export interface Layout<T extends TimelineItem> {
  rows: Row<T>[];
  /** Downtimes the axis does not show (outside it): the table still lists them. */
  hidden: T[];
  ticks: { x: number; at: Date }[];
  nowX: number | null;
  height: number;
  plotLeft: number;
  plotRight: number;
  axisHeight: number;
}

export interface LayoutOptions {
  width: number;
  labelWidth: number;
  laneHeight: number;
  rowGap: number;
  axisHeight: number;
  minBarWidth: number;
  maxTicks: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  width: 960,
  labelWidth: 160,
  laneHeight: 22,
  rowGap: 8,
  axisHeight: 28,
  minBarWidth: 4,
  maxTicks: 10,
};

/** Lanes for overlapping spans: each span goes to the first lane free at its start (spans
 * in the order of their start). Returns the lane of each span, in the input's order. */
export function assignLanes(spans: Span[]): number[] {
  const order = spans
    .map((span, index) => ({ span, index }))
    .sort((a, b) => a.span.startsAt.getTime() - b.span.startsAt.getTime() || a.index - b.index);
  const laneEnds: number[] = [];
  const lanes = new Array<number>(spans.length).fill(0);
  for (const { span, index } of order) {
    const start = span.startsAt.getTime();
    let lane = laneEnds.findIndex((end) => end <= start);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(0);
    }
    laneEnds[lane] = span.endsAt.getTime();
    lanes[index] = lane;
  }
  return lanes;
}

const STEPS_HOURS = [1, 2, 3, 6, 12, 24, 48, 7 * 24, 14 * 24, 28 * 24, 56 * 24];

/** Tick moments on local hour or day boundaries, at most `maxTicks` of them, and the step. */
export function timeTicks(from: Date, to: Date, maxTicks: number): { ticks: Date[]; stepHours: number } {
  const spanHours = (to.getTime() - from.getTime()) / HOUR_MS;
  const stepHours = STEPS_HOURS.find((step) => spanHours / step <= maxTicks) ?? 56 * 24;
  const ticks: Date[] = [];
  if (stepHours < 24) {
    const first = new Date(from);
    first.setMinutes(0, 0, 0);
    while (first.getHours() % stepHours !== 0 || first < from) first.setHours(first.getHours() + 1);
    for (let at = first; at <= to; at = new Date(at.getTime() + stepHours * HOUR_MS)) ticks.push(at);
  } else {
    const days = stepHours / 24;
    let at = startOfDay(from);
    if (at < from) at = addDays(at, 1);
    for (; at <= to; at = addDays(at, days)) ticks.push(at);
  }
  return { ticks, stepHours };
}

export function layoutTimeline<T extends TimelineItem>(
  items: T[],
  axis: { from: Date; to: Date },
  now: Date,
  options: Partial<LayoutOptions> = {},
): Layout<T> {
  const o = { ...DEFAULT_LAYOUT, ...options };
  const plotLeft = o.labelWidth;
  const plotRight = o.width - 8;
  const t0 = axis.from.getTime();
  const t1 = axis.to.getTime();
  const scale = (t: number) => plotLeft + ((t - t0) / (t1 - t0)) * (plotRight - plotLeft);

  const shown = items.filter((item) => item.endsAt.getTime() > t0 && item.startsAt.getTime() < t1);
  const hidden = items.filter((item) => !shown.includes(item));
  const bySite = new Map<string, T[]>();
  for (const item of shown) bySite.set(item.site, [...(bySite.get(item.site) ?? []), item]);

  const rows: Row<T>[] = [];
  let y = o.axisHeight;
  for (const site of [...bySite.keys()].sort((a, b) => a.localeCompare(b))) {
    const siteItems = bySite.get(site) as T[];
    const lanes = assignLanes(siteItems);
    const laneCount = Math.max(...lanes) + 1;
    const bars = siteItems.map((item, index) => {
      const start = Math.max(item.startsAt.getTime(), t0);
      const end = Math.min(item.endsAt.getTime(), t1);
      const x = scale(start);
      const width = Math.max(scale(end) - x, o.minBarWidth);
      return {
        item,
        lane: lanes[index] ?? 0,
        x,
        width: Math.min(width, plotRight - x),
        clippedStart: item.startsAt.getTime() < t0,
        clippedEnd: item.endsAt.getTime() > t1,
      };
    });
    const height = laneCount * o.laneHeight;
    rows.push({ site, y, height, lanes: laneCount, bars });
    y += height + o.rowGap;
  }
  const nowT = now.getTime();
  const { ticks } = timeTicks(axis.from, axis.to, o.maxTicks);
  return {
    rows,
    hidden,
    ticks: ticks.map((at) => ({ at, x: scale(at.getTime()) })),
    nowX: nowT >= t0 && nowT <= t1 ? scale(nowT) : null,
    height: Math.max(y, o.axisHeight + o.laneHeight),
    plotLeft,
    plotRight,
    axisHeight: o.axisHeight,
  };
}
