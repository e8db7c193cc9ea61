// The server's 24-hour rule, as a preview while a downtime is typed. The server decides:
// domains/downtimes/rules.py `classify` computes the classification again on every
// declaration and edit, from its own clock. This copy only says what it will most likely be.

export type Classification = "SCHEDULED" | "UNSCHEDULED";

/** GOCDB's notice for a SCHEDULED downtime (rules.py SCHEDULED_NOTICE). */
export const SCHEDULED_NOTICE_MS = 24 * 60 * 60 * 1000;

/** SCHEDULED iff the start is more than 24 hours after `now` (exactly 24 hours: UNSCHEDULED). */
export function classify(startsAt: Date, now: Date): Classification {
  return startsAt.getTime() > now.getTime() + SCHEDULED_NOTICE_MS ? "SCHEDULED" : "UNSCHEDULED";
}

/** A `datetime-local` input's value ("2026-12-03T18:30", local time) as a moment; null when
 * it is empty or not a time. */
export function parseLocalDateTime(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!match) return null;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match.slice(1).map((part) => Number(part ?? 0));
  const moment = new Date(year, month - 1, day, hour, minute, second);
  // 2026-02-30 would roll over into March: not a time anyone typed
  if (moment.getFullYear() !== year || moment.getMonth() !== month - 1 || moment.getDate() !== day) return null;
  return moment;
}

/** A moment as a `datetime-local` value in local time, to the minute. */
export function toLocalDateTime(moment: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}` +
    `T${pad(moment.getHours())}:${pad(moment.getMinutes())}`
  );
}

/** What the preview says: the classification, or null when the start is not a time yet. */
export function previewClassification(startValue: string, now: Date): Classification | null {
  const start = parseLocalDateTime(startValue);
  return start === null ? null : classify(start, now);
}
