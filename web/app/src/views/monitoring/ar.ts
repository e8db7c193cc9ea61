// Availability and reliability as the A/R page shows them: EGI's targets, the periods' words,
// the default periods, and the chart's layout (pure, so that vitest checks it without a
// browser). Days are UTC days, as ARGO's are.

/** EGI's monthly targets (issue 14): a site is checked against 80 % availability and 85 %
 * reliability. */
export const TARGETS = { availability: 80, reliability: 85 } as const;

export type ArKind = keyof typeof TARGETS;
export type Granularity = "MONTHLY" | "DAILY";

export interface ArPoint {
  start: string;
  end: string;
  availability: number | null;
  reliability: number | null;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A figure below its target (an undefined one is not: it is shown as undefined). */
export function belowTarget(value: number | null | undefined, kind: ArKind): boolean {
  return value !== null && value !== undefined && value < TARGETS[kind];
}

/** Two decimals, cut rather than rounded: 79.996 % must not read as the 80 % it misses. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined) return "undefined";
  return `${(Math.floor(value * 100) / 100).toFixed(2)} %`;
}

/** A fraction of the time (0..1) as a percentage, or a dash. */
export function formatFraction(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${(Math.round(value * 10000) / 100).toFixed(2)} %`;
}

function parts(day: string): [number, number, number] {
  const [y, m, d] = day.split("-").map(Number);
  return [y ?? 1970, m ?? 1, d ?? 1];
}

/** "Nov 2026" for a month, "27 Nov" for a day; a month cut by the period says its days. */
export function periodLabel(point: { start: string; end: string }, granularity: Granularity): string {
  const [y, m, d] = parts(point.start);
  const month = MONTHS[m - 1] ?? "";
  if (granularity === "DAILY") return `${d} ${month}`;
  const [, , endDay] = parts(point.end);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d === 1 && endDay === last) return `${month} ${y}`;
  return `${d}–${endDay} ${month} ${y}`;
}

/** A UTC day as the API's Date (YYYY-MM-DD). */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The period shown when none is asked: the month two months back to today (three bars),
 * or the last 30 days. */
export function defaultRange(today: Date, granularity: Granularity): { from: string; to: string } {
  if (granularity === "MONTHLY") {
    return { from: isoDay(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 2, 1))), to: isoDay(today) };
  }
  return { from: isoDay(new Date(today.getTime() - 29 * 86_400_000)), to: isoDay(today) };
}

export interface ChartBar {
  kind: ArKind;
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
  below: boolean;
}

export interface ChartGroup {
  x: number;
  label: string;
  /** Labels are thinned out when the days crowd the axis. */
  showLabel: boolean;
  bars: ChartBar[];
  /** The kinds without a figure in this period. */
  undefinedKinds: ArKind[];
}

export interface ChartLayout {
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  groups: ChartGroup[];
  targets: { kind: ArKind; value: number; y: number }[];
  ticks: { value: number; y: number }[];
}

/** Where each period's two bars (availability, reliability), the target lines and the 0–100 %
 * axis go in a `width` × `height` picture. */
export function layoutArChart(
  points: ArPoint[],
  granularity: Granularity,
  { width = 960, height = 300 }: { width?: number; height?: number } = {},
): ChartLayout {
  const plot = { left: 48, right: width - 12, top: 12, bottom: height - 28 };
  const y = (value: number) => plot.bottom - (Math.max(0, Math.min(100, value)) / 100) * (plot.bottom - plot.top);
  const step = points.length ? (plot.right - plot.left) / points.length : 0;
  // no floor: a year of days (the chart reads every page of the range) must not overlap
  const barWidth = Math.min(40, (step * 0.8) / 2);
  const labelEvery = Math.max(1, Math.ceil(points.length / 12));
  const groups = points.map((point, index) => {
    const middle = plot.left + step * (index + 0.5);
    const bars: ChartBar[] = [];
    const undefinedKinds: ArKind[] = [];
    (["availability", "reliability"] as const).forEach((kind, k) => {
      const value = point[kind];
      if (value === null) {
        undefinedKinds.push(kind);
        return;
      }
      const top = y(value);
      bars.push({
        kind,
        x: middle - barWidth + k * barWidth,
        y: top,
        width: barWidth,
        height: plot.bottom - top,
        value,
        below: belowTarget(value, kind),
      });
    });
    return { x: middle, label: periodLabel(point, granularity), showLabel: index % labelEvery === 0, bars, undefinedKinds };
  });
  return {
    width,
    height,
    plot,
    groups,
    targets: (["availability", "reliability"] as const).map((kind) => ({ kind, value: TARGETS[kind], y: y(TARGETS[kind]) })),
    ticks: [0, 25, 50, 75, 100].map((value) => ({ value, y: y(value) })),
  };
}
