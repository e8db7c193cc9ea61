// A site's or an NGI's usage panel (UsagePanel): the last twelve months' normalised CPU and
// jobs from `Site.usage` / `NGI.usage`, and the accounting page's view of the same.
import { defaultView, writeView } from "./view";
import { monthsBetween } from "./charts";

export type UsageOf = "site" | "ngi";

export interface UsageMonth {
  month: string;
  cpu: number;
  jobs: number;
}

/** The months of the default period (the last twelve, this one included): its first and last. */
export function usagePeriod(now: Date): { from: string; to: string } {
  const { from, to } = defaultView(now);
  return { from, to };
}

/** Each month of the period with its figures (0 for a month without any). */
export function usageMonths(
  period: { from: string; to: string },
  cpu: { key: string; value?: number | null }[],
  jobs: { key: string; value?: number | null }[],
): UsageMonth[] {
  const cpuOf = new Map(cpu.map((part) => [part.key, part.value ?? 0]));
  const jobsOf = new Map(jobs.map((part) => [part.key, part.value ?? 0]));
  return monthsBetween(period.from, period.to).map((month) => ({
    month,
    cpu: cpuOf.get(month) ?? 0,
    jobs: jobsOf.get(month) ?? 0,
  }));
}

/** The accounting page's address for the same period and figures of one site (by VO) or one
 * NGI (by site), month by month. */
export function usageLink(of: UsageOf, name: string, now: Date): string {
  const view = { ...defaultView(now), rows: of === "site" ? ("VO" as const) : ("SITE" as const), scope: of, scopeName: name };
  return `/usage?${writeView(view).toString()}`;
}
