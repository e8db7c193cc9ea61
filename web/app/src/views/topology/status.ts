// How a site is coloured on the map and in the legend: the one place to change when live
// status exists (monitoring's issue): give `markerStatus` the site's live state and add its
// colours here; the map, the legend and their tests read only these two functions.
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

/** What a marker shows for a site. Today: its certification status. Hook for monitoring:
 * return the live status here (e.g. `{ live: site.status }`) and extend `colourOf`. */
export function markerStatus(site: { certificationStatus: CertificationStatus }): CertificationStatus {
  return site.certificationStatus;
}

export function colourOf(status: CertificationStatus): Colour {
  return CERTIFICATION[status];
}

export function statusLabel(status: CertificationStatus): string {
  return CERTIFICATION[status].label;
}

export const LEGEND: readonly CertificationStatus[] = ["CERTIFIED", "CANDIDATE", "UNCERTIFIED", "SUSPENDED", "CLOSED"];
