// An alert rule as its form edits it (text fields), and as the API takes it. Numbers that are
// not whole numbers are refused here, by field, since GraphQL's own refusal of an Int names
// no input field; the ranges are the server's to check (its rule shows beside the field).
import type { FieldProblem } from "../../graphql/errors";

export interface RuleDraft {
  name: string;
  site: string;
  ngi: string;
  serviceType: string;
  report: string;
  onCritical: boolean;
  afterFailures: string;
  remindHours: string;
  onRecovery: boolean;
  flapChanges: string;
  flapWindowMinutes: string;
  email: boolean;
  project: string;
  topic: string;
  webhookUrl: string;
  enabled: boolean;
}

export const EMPTY_RULE: RuleDraft = {
  name: "",
  site: "",
  ngi: "",
  serviceType: "",
  report: "",
  onCritical: true,
  afterFailures: "",
  remindHours: "",
  onRecovery: true,
  flapChanges: "",
  flapWindowMinutes: "60",
  email: true,
  project: "",
  topic: "",
  webhookUrl: "",
  enabled: true,
};

export interface RuleFields {
  name: string;
  site?: string | null;
  ngi?: string | null;
  serviceType?: string | null;
  report?: string | null;
  onCritical: boolean;
  afterFailures?: number | null;
  remindHours?: number | null;
  onRecovery: boolean;
  flapChanges?: number | null;
  flapWindowMinutes: number;
  email: boolean;
  topic?: { project: string; topic: string } | null;
  webhookUrl?: string | null;
  enabled: boolean;
}

const text = (value: number | null | undefined) => (value === null || value === undefined ? "" : String(value));

export function draftOf(rule: RuleFields): RuleDraft {
  return {
    name: rule.name,
    site: rule.site ?? "",
    ngi: rule.ngi ?? "",
    serviceType: rule.serviceType ?? "",
    report: rule.report ?? "",
    onCritical: rule.onCritical,
    afterFailures: text(rule.afterFailures),
    remindHours: text(rule.remindHours),
    onRecovery: rule.onRecovery,
    flapChanges: text(rule.flapChanges),
    flapWindowMinutes: text(rule.flapWindowMinutes),
    email: rule.email,
    project: rule.topic?.project ?? "",
    topic: rule.topic?.topic ?? "",
    webhookUrl: rule.webhookUrl ?? "",
    enabled: rule.enabled,
  };
}

const NUMBERS = ["afterFailures", "remindHours", "flapChanges", "flapWindowMinutes"] as const;

/** The API's input of a draft, or the fields that are not whole numbers. */
export function inputOf(draft: RuleDraft): { input: RuleFields } | { problems: Record<string, FieldProblem> } {
  const problems: Record<string, FieldProblem> = {};
  const numbers: Partial<Record<(typeof NUMBERS)[number], number | null>> = {};
  for (const key of NUMBERS) {
    const value = draft[key].trim();
    if (value === "") {
      numbers[key] = null;
    } else if (/^-?\d+$/.test(value)) {
      numbers[key] = Number(value);
    } else {
      problems[key] = { field: `input.${key}`, rule: null, message: "must be a whole number" };
    }
  }
  if (Object.keys(problems).length) return { problems };
  const orNull = (value: string) => (value.trim() === "" ? null : value.trim());
  return {
    input: {
      name: draft.name,
      site: orNull(draft.site),
      ngi: orNull(draft.ngi),
      serviceType: orNull(draft.serviceType),
      // left empty: the server's default report (Critical)
      report: orNull(draft.report),
      onCritical: draft.onCritical,
      afterFailures: numbers.afterFailures ?? null,
      remindHours: numbers.remindHours ?? null,
      onRecovery: draft.onRecovery,
      flapChanges: numbers.flapChanges ?? null,
      // left empty: the server's default
      flapWindowMinutes: numbers.flapWindowMinutes ?? 60,
      email: draft.email,
      topic:
        draft.project.trim() || draft.topic.trim() ? { project: draft.project.trim(), topic: draft.topic.trim() } : null,
      webhookUrl: orNull(draft.webhookUrl),
      enabled: draft.enabled,
    },
  };
}

/** A state's failing metrics in words: "m1 CRITICAL, m2 WARNING" ("" for none). */
export function failingMetrics(metrics: readonly { metric: string; status: string }[]): string {
  return metrics.map(({ metric, status }) => `${metric} ${status}`).join(", ");
}

/** In words: what the rule watches and when it tells. */
export function describeRule(rule: RuleFields): string {
  const scope = rule.site ? `site ${rule.site}` : rule.ngi ? `NGI ${rule.ngi}` : "every site";
  const what = rule.serviceType ? `${rule.serviceType} services of ${scope}` : `the services of ${scope}`;
  const report = rule.report ? ` (status as report ${rule.report} combines their metrics)` : "";
  const when = [
    rule.onCritical ? "a change to CRITICAL" : null,
    rule.afterFailures ? `${rule.afterFailures} results in a row not OK` : null,
    rule.onRecovery ? "a recovery" : null,
  ].filter(Boolean);
  const reminders = rule.remindHours ? `; reminders every ${rule.remindHours} h while not OK` : "";
  const flapping = rule.flapChanges
    ? `; flapping at ${rule.flapChanges} changes within ${rule.flapWindowMinutes} min silences it`
    : "";
  const channels = [
    rule.email ? "e-mail" : null,
    rule.webhookUrl ? `webhook ${rule.webhookUrl}` : null,
    rule.topic ? `topic ${rule.topic.project}/${rule.topic.topic}` : null,
  ].filter(Boolean);
  return `Watches ${what}${report}; tells of ${when.length ? when.join(", ") : "nothing"}${reminders}${flapping}; by ${
    channels.length ? channels.join(", ") : "no channel"
  }.`;
}
