// Where the monitoring pages live, and the catalogue's kinds with their words.
import type { MonitoringProfileKind } from "../../gql/graphql";

/** The kinds in the order the catalogue lists them. */
export const KINDS: { kind: MonitoringProfileKind; title: string; one: string }[] = [
  { kind: "REPORT", title: "Reports", one: "Report" },
  { kind: "METRIC", title: "Metric profiles", one: "Metric profile" },
  { kind: "OPERATIONS", title: "Operations profiles", one: "Operations profile" },
  { kind: "AGGREGATION", title: "Aggregation profiles", one: "Aggregation profile" },
  { kind: "THRESHOLDS", title: "Thresholds profiles", one: "Thresholds profile" },
  { kind: "WEIGHTS", title: "Weights", one: "Weights" },
];

export function profilePath(kind: string, profileId: string): string {
  return `/monitoring/profiles/${encodeURIComponent(kind.toLowerCase())}/${encodeURIComponent(profileId)}`;
}

export function reportPath(name: string): string {
  return `/reports/${encodeURIComponent(name)}`;
}
