// The recomputation form's values and the API input they make, and back (pure, for vitest).
import type { CreateRecomputationInput, MonitoringRecomputationsQuery } from "../../gql/graphql";
import { splitList } from "../topology/filters";

type Recomputation = MonitoringRecomputationsQuery["recomputations"]["nodes"][number];

/** A metric excluded, of a site (`group`), service type or host when named. */
export interface MetricDraft {
  metric: string;
  hostname: string;
  service: string;
  group: string;
}

/** A monitoring source whose results are dropped over its own period. */
export interface SourceDraft {
  host: string;
  startTime: string;
  endTime: string;
}

/** A state applied to the most specific of metric, endpoint, service type and site named;
 * empty times: the recomputation's own. */
export interface ChangeDraft {
  state: string;
  group: string;
  service: string;
  endpoint: string;
  metric: string;
  startTime: string;
  endTime: string;
}

export interface RecomputationDraft {
  report: string;
  reason: string;
  requesterName: string;
  requesterEmail: string;
  /** `datetime-local` values, read as UTC ("2026-12-01T06:00"). */
  startTime: string;
  endTime: string;
  /** Site short names, comma-separated. */
  exclude: string;
  metrics: MetricDraft[];
  sources: SourceDraft[];
  changes: ChangeDraft[];
}

export const EMPTY_RECOMPUTATION: RecomputationDraft = {
  report: "",
  reason: "",
  requesterName: "",
  requesterEmail: "",
  startTime: "",
  endTime: "",
  exclude: "",
  metrics: [],
  sources: [],
  changes: [],
};

export const EMPTY_METRIC: MetricDraft = { metric: "", hostname: "", service: "", group: "" };
export const EMPTY_SOURCE: SourceDraft = { host: "", startTime: "", endTime: "" };
export const EMPTY_CHANGE: ChangeDraft = { state: "OK", group: "", service: "", endpoint: "", metric: "", startTime: "", endTime: "" };

/** The states a status change may apply (the API's list). */
export const STATES = ["OK", "WARNING", "CRITICAL", "UNKNOWN", "MISSING", "DOWNTIME"] as const;

/** "2026-12-01T06:00" (UTC) -> "2026-12-01T06:00:00Z"; empty stays empty (the server names
 * the field). */
export function utcMoment(value: string): string {
  if (value === "") return "";
  return value.length === 16 ? `${value}:00Z` : `${value}Z`;
}

/** The API's moment ("2026-12-01T06:00:00+00:00") as a `datetime-local` value in UTC. */
export function localValue(moment: string | null | undefined): string {
  return moment ? new Date(moment).toISOString().slice(0, 16) : "";
}

/** A trimmed value, or null for an empty one (the API's "not named"). */
function named(value: string): string | null {
  const text = value.trim();
  return text === "" ? null : text;
}

export function recomputationInput(draft: RecomputationDraft): CreateRecomputationInput {
  return {
    report: draft.report,
    reason: draft.reason.trim(),
    requesterName: draft.requesterName.trim(),
    requesterEmail: draft.requesterEmail.trim(),
    startTime: utcMoment(draft.startTime),
    endTime: utcMoment(draft.endTime),
    exclude: splitList(draft.exclude),
    excludeMetrics: draft.metrics.map((m) => ({
      metric: m.metric.trim(),
      hostname: named(m.hostname),
      service: named(m.service),
      group: named(m.group),
    })),
    excludeMonitoringSource: draft.sources.map((s) => ({
      host: s.host.trim(),
      startTime: utcMoment(s.startTime),
      endTime: utcMoment(s.endTime),
    })),
    appliedStatusChanges: draft.changes.map((c) => ({
      state: c.state,
      group: named(c.group),
      service: named(c.service),
      endpoint: named(c.endpoint),
      metric: named(c.metric),
      startTime: c.startTime ? utcMoment(c.startTime) : null,
      endTime: c.endTime ? utcMoment(c.endTime) : null,
    })),
  };
}

/** The form's values of a stored recomputation, to edit it (a replacement gives all again). */
export function draftOf(row: Recomputation): RecomputationDraft {
  return {
    report: row.report,
    reason: row.reason,
    requesterName: row.requesterName,
    requesterEmail: row.requesterEmail ?? "",
    startTime: localValue(row.startTime),
    endTime: localValue(row.endTime),
    exclude: row.exclude.join(", "),
    metrics: row.excludeMetrics.map((m) => ({
      metric: m.metric,
      hostname: m.hostname ?? "",
      service: m.service ?? "",
      group: m.group ?? "",
    })),
    sources: row.excludeMonitoringSource.map((s) => ({
      host: s.host,
      startTime: localValue(s.startTime),
      endTime: localValue(s.endTime),
    })),
    changes: row.appliedStatusChanges.map((c) => ({
      state: c.state,
      group: c.group ?? "",
      service: c.service ?? "",
      endpoint: c.endpoint ?? "",
      metric: c.metric ?? "",
      startTime: localValue(c.startTime),
      endTime: localValue(c.endTime),
    })),
  };
}

/** "2026-12-01 06:00–2026-12-02 18:00 UTC" */
export function periodOf(start: string, end: string): string {
  const short = (moment: string) => new Date(moment).toISOString().slice(0, 16).replace("T", " ");
  return `${short(start)}–${short(end)} UTC`;
}

/** What a recomputation excludes or changes, in words, one part each. */
export function partsOf(row: Recomputation): string[] {
  const where = (pairs: [string, string | null | undefined][]) =>
    pairs
      .filter(([, value]) => value)
      .map(([word, value]) => ` ${word} ${value}`)
      .join("");
  const during = (start: string | null | undefined, end: string | null | undefined) =>
    start && end ? ` (${periodOf(start, end)})` : "";
  return [
    ...row.exclude.map((site) => `site ${site}`),
    ...row.excludeMetrics.map(
      (m) => `${m.metric}${where([["of", m.service], ["on", m.hostname], ["at", m.group]])}`,
    ),
    ...row.excludeMonitoringSource.map((s) => `results of ${s.host}${during(s.startTime, s.endTime)}`),
    ...row.appliedStatusChanges.map(
      (c) =>
        `${c.state}${where([["for", c.metric], ["of", c.service], ["on", c.endpoint], ["at", c.group]])}${during(c.startTime, c.endTime)}`,
    ),
  ];
}
