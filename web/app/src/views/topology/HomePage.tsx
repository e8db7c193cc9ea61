import { useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { Page } from "../../components/Page";
import { QueryState } from "../../components/QueryState";
import { filterFromParams, filterQueryString } from "./filters";
import { SiteFilterForm } from "./SiteFilterForm";
import { SiteTable } from "./SiteTable";
import type { SiteRow } from "./sitesData";
import { LEGEND, colourOf, markerStatus, statusLabel } from "./status";
import { useAllSites } from "./useAllSites";
import { WorldMap } from "./WorldMap";

function Legend({ sites }: { sites: readonly SiteRow[] }) {
  const counts = new Map<string, number>();
  for (const site of sites) counts.set(markerStatus(site), (counts.get(markerStatus(site)) ?? 0) + 1);
  return (
    <div className="topology-legend">
      <h2 id="topology-legend-title">Legend</h2>
      <ul aria-labelledby="topology-legend-title">
        {LEGEND.map((status) => (
          <li key={status}>
            <svg width="14" height="14" viewBox="-7 -7 14 14" aria-hidden="true">
              <circle r="6" fill={colourOf(status).fill} />
            </svg>{" "}
            {statusLabel(status)}: {counts.get(status) ?? 0}
          </li>
        ))}
        <li>
          <svg width="14" height="14" viewBox="-7 -7 14 14" aria-hidden="true">
            <circle r="6" className="topology-legend-cluster" />
          </svg>{" "}
          A number: a cluster of sites; activate it to zoom in
        </li>
      </ul>
    </div>
  );
}

export default function HomePage() {
  const [params] = useSearchParams();
  const filter = useMemo(() => filterFromParams(params), [params]);
  const result = useAllSites(filter);
  const sorted = useMemo(
    () => [...(result.data?.sites ?? [])].sort((a, b) => a.shortName.localeCompare(b.shortName)),
    [result.data],
  );
  return (
    <Page
      title="Federation map"
      actions={<Link to={`/sites${filterQueryString(params)}`}>These sites as a list</Link>}
    >
      <div className="topology-layout">
        <SiteFilterForm />
        <div className="topology-main" aria-busy={result.fetching} data-testid="sites-result">
          <QueryState
            what="sites"
            fetching={result.fetching}
            error={result.error}
            data={result.data}
            isEmpty={(data) => data.sites.length === 0}
            empty="No site matches these filters."
          >
            {(data) => (
              <>
                <p aria-live="polite" className="topology-count">
                  {data.sites.length} sites shown
                  {result.fetching ? " (updating…)" : ""}
                </p>
                <WorldMap sites={data.sites} />
                <Legend sites={data.sites} />
                <SiteTable sites={sorted} caption="Sites on the map (the map as a table)" showLocation />
              </>
            )}
          </QueryState>
        </div>
      </div>
    </Page>
  );
}
