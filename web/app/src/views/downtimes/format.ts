
// How the downtimes area writes times and enums in words.

const MOMENT = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short",
});

export function formatMoment(value: string | Date): string {
  return MOMENT.format(typeof value === "string" ? new Date(value) : value);
}

const SHORT = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

/** For tables: "3 Dec, 18:00" (the year and zone are in the column header's words). */
export function formatShort(value: string | Date): string {
  return SHORT.format(typeof value === "string" ? new Date(value) : value);
}

export function formatDuration(startsAt: string, endsAt: string): string {
  const minutes = Math.round((new Date(endsAt).getTime() - new Date(startsAt).getTime()) / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [days ? `${days} d` : "", hours ? `${hours} h` : "", rest ? `${rest} min` : ""].filter(Boolean);
  return parts.join(" ") || "0 min";
}

export function formatTick(at: Date, stepHours: number): string {
  if (stepHours < 24 && (at.getHours() !== 0 || at.getMinutes() !== 0)) {
    return at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }
  return at.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
}

export const EVENT_WORDS: Record<string, string> = {
  DECLARED: "declared",
  CHANGED: "changed",
  CANCELLED: "cancelled",
  STARTED: "started",
  ENDED: "ended",
};

export const SEVERITY_WORDS: Record<string, string> = {
  OUTAGE: "Outage: unavailable",
  WARNING: "Warning: available, possibly degraded",
};

export function downtimePath(id: string): string {
  return `/downtimes/${encodeURIComponent(id)}`;
}

