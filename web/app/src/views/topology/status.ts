// How a site is coloured on the map and in the legend: by its live status under a report
// (monitoring, issue 14) or by its certification status. The map, the legend and their tests
// read only a `Colouring`: which key a site has, each key's colour and label, the legend's order.
import type { CertificationStatus } from "../../gql/graphql";

export interface Colour {
  fill: string;
  label: string;
}

const CERTIFICATION: Record<CertificationStatus, Colour> = {
  CERTIFIED: { fill: "#1a7f37", label: "Certified" },
  CANDIDATE: { fill: "#0a58ca", label: "Candidate" },
  UNCERTIFIED: { fill: "#9a6700", label: "Uncertified" },
  SUSPENDED: { fill: "#cf222e", label: "Suspended" },
  CLOSED: { fill: "#57606a", label: "Closed" },
};

/** A site's status under a report (the A/R engine's words), and "none" where the report
 * covers no service of the site or its status is not known yet. */
const NO_STATUS = "NONE";
const LIVE: Record<string, Colour> = {
  OK: { fill: "#1a7f37", label: "OK" },
  WARNING: { fill: "#9a6700", label: "Warning" },
  CRITICAL: { fill: "#cf222e", label: "Critical" },
  UNKNOWN: { fill: "#8250df", label: "Unknown" },
  MISSING: { fill: "#57606a", label: "Missing" },
  DOWNTIME: { fill: "#0a58ca", label: "In downtime" },
  [NO_STATUS]: { fill: "#afb8c1", label: "No status" },
};

export interface MarkerSite {
  shortName: string;
  certificationStatus: CertificationStatus;
}

export interface Colouring {
  /** What the colours say, for the legend's title. */
  title: string;
  /** The legend's keys, in order. */
  legend: readonly string[];
  keyOf(site: MarkerSite): string;
  colour(key: string): Colour;
}

export function colourOf(status: CertificationStatus): Colour {
  return CERTIFICATION[status];
}

export function statusLabel(status: CertificationStatus): string {
  return CERTIFICATION[status].label;
}

export const LEGEND: readonly CertificationStatus[] = ["CERTIFIED", "CANDIDATE", "UNCERTIFIED", "SUSPENDED", "CLOSED"];

export const BY_CERTIFICATION: Colouring = {
  title: "Certification status",
  legend: LEGEND,
  keyOf: (site) => site.certificationStatus,
  colour: (key) => CERTIFICATION[key as CertificationStatus],
};

/** Colours by each site's status now under `report` (`statuses`: short name → status). */
export function byLiveStatus(report: string, statuses: ReadonlyMap<string, string>): Colouring {
  return {
    title: `Status now under ${report}`,
    legend: Object.keys(LIVE),
    keyOf: (site) => {
      const status = statuses.get(site.shortName);
      return status !== undefined && status in LIVE ? status : NO_STATUS;
    },
    colour: (key) => LIVE[key] ?? LIVE[NO_STATUS]!,
  };
}

/** What a marker shows for a site under a colouring (by certification unless told). */
export function markerStatus(site: MarkerSite, colouring: Colouring = BY_CERTIFICATION): string {
  return colouring.keyOf(site);
}
