// A status timeline over one UTC day (the shape of issue 14's StatusTimeline: the changes of
// the day, the first at 00:00, and where it stops) as segments of a bar: pure, for vitest.

export interface StatusPointLike {
  timestamp: string;
  status: string;
}

export interface Segment {
  status: string;
  from: Date;
  to: Date;
  /** Left edge and width in the bar's units (0..width). */
  x: number;
  width: number;
}

/** Each status from its change to the next one's (the last to `until`), placed on a bar of
 * `width` for the whole UTC `day`; points outside the day are clamped to it. */
export function daySegments(points: StatusPointLike[], day: string, until: string, width = 960): Segment[] {
  const start = Date.parse(`${day}T00:00:00Z`);
  const end = start + 86_400_000;
  const stop = Math.min(Math.max(Date.parse(until), start), end);
  const clamp = (t: number) => Math.min(Math.max(t, start), stop);
  const x = (t: number) => ((t - start) / (end - start)) * width;
  const sorted = [...points].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  const segments: Segment[] = [];
  sorted.forEach((point, index) => {
    const from = clamp(Date.parse(point.timestamp));
    const next = sorted[index + 1];
    const to = next ? clamp(Date.parse(next.timestamp)) : stop;
    if (to <= from) return;
    const previous = segments[segments.length - 1];
    if (previous && previous.status === point.status && previous.to.getTime() === from) {
      previous.to = new Date(to);
      previous.width = x(to) - previous.x;
      return;
    }
    segments.push({ status: point.status, from: new Date(from), to: new Date(to), x: x(from), width: x(to) - x(from) });
  });
  return segments;
}

/** "00:00–06:30 UTC" */
export function spanLabel(segment: Segment): string {
  const hm = (d: Date) => d.toISOString().slice(11, 16);
  const to = segment.to.getTime() % 86_400_000 === 0 ? "24:00" : hm(segment.to);
  return `${hm(segment.from)}–${to} UTC`;
}

/** A metric's points over `day` from its changes since 00:00 (oldest first) and its status
 * now: at 00:00 it had the first change's previous status (none: no result yet, MISSING), or,
 * without a change today, the status it has now. */
export function metricDayPoints(
  day: string,
  changes: { timestamp: string; status: string; previousStatus?: string | null }[],
  current: string,
): StatusPointLike[] {
  const midnight = `${day}T00:00:00+00:00`;
  const first = changes[0];
  const initial = first ? (first.previousStatus ?? "MISSING") : current;
  return [{ timestamp: midnight, status: initial }, ...changes.map((c) => ({ timestamp: c.timestamp, status: c.status }))];
}
