import { useMemo, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { Page } from "../../components/Page";
import { QueryState } from "../../components/QueryState";
import { describeError } from "../../graphql/errors";
import { changeSentence, useReport } from "../monitoring/EndpointStatus";
import { useSiteStatuses } from "../monitoring/siteStatuses";
import { filterFromParams, filterQueryString } from "./filters";
import { SiteFilterForm } from "./SiteFilterForm";
import { SiteTable } from "./SiteTable";
import type { SiteRow } from "./sitesData";
import { BY_CERTIFICATION, byLiveStatus, markerStatus, type Colouring } from "./status";
import { useAllSites } from "./useAllSites";
import { WorldMap } from "./WorldMap";

/** The report whose status colours the map at first (EGI's), where it exists. */
const MAP_REPORT = "Critical";
/** `?colour=certification` colours by certification status; by default, by live status. */
const COLOUR_PARAM = "colour";
type ColourBy = "live" | "certification";

function Legend({ sites, colouring }: { sites: readonly SiteRow[]; colouring: Colouring }) {
  const counts = new Map<string, number>();
  for (const site of sites) {
    const key = markerStatus(site, colouring);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return (
    <div className="topology-legend">
      <h2 id="topology-legend-title">Legend: {colouring.title}</h2>
      <ul aria-labelledby="topology-legend-title">
        {colouring.legend.map((key) => (
          <li key={key}>
            <svg width="14" height="14" viewBox="-7 -7 14 14" aria-hidden="true">
              <circle r="6" fill={colouring.colour(key).fill} />
            </svg>{" "}
            {colouring.colour(key).label}: {counts.get(key) ?? 0}
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

/** How the map is coloured now, and what to say about it (the report picker, a live region
 * announcing each change, or why the live status is not shown). */
function useMapColouring(by: ColourBy): { colouring: Colouring; notice: ReactNode } {
  const live = by === "live";
  const { report, picker, loaded } = useReport(MAP_REPORT);
  const { statuses, error, change } = useSiteStatuses(report, !live);
  if (!live) return { colouring: BY_CERTIFICATION, notice: null };
  if (loaded && report === null) {
    return { colouring: BY_CERTIFICATION, notice: <p className="empty">No monitoring report yet: coloured by certification status.</p> };
  }
  if (error && !statuses) {
    return {
      colouring: BY_CERTIFICATION,
      notice: <p className="empty">The live status is unavailable ({describeError(error).join(" ")}): coloured by certification status.</p>,
    };
  }
  return {
    colouring: byLiveStatus(report ?? MAP_REPORT, statuses ?? new Map()),
    notice: (
      <>
        {picker}
        <p role="status" aria-live="polite" className="monitoring-live" data-testid="live-status">
          {statuses === null ? "Loading the live status…" : change ? `Live: ${changeSentence(change)}.` : "Live: status changes show here as they happen."}
        </p>
      </>
    ),
  };
}

function ColourSwitch({ by, onChange }: { by: ColourBy; onChange: (by: ColourBy) => void }) {
  const choices: [ColourBy, string][] = [
    ["live", "Live status"],
    ["certification", "Certification"],
  ];
  return (
    <fieldset className="topology-colour">
      <legend>Colour the sites by</legend>
      {choices.map(([value, label]) => (
        <label key={value} className="ar-inline">
          <input type="radio" name="colour" value={value} checked={by === value} onChange={() => onChange(value)} /> {label}
        </label>
      ))}
    </fieldset>
  );
}

export default function HomePage() {
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => filterFromParams(params), [params]);
  const result = useAllSites(filter);
  const sorted = useMemo(
    () => [...(result.data?.sites ?? [])].sort((a, b) => a.shortName.localeCompare(b.shortName)),
    [result.data],
  );
  const by: ColourBy = params.get(COLOUR_PARAM) === "certification" ? "certification" : "live";
  const { colouring, notice } = useMapColouring(by);
  const choose = (next: ColourBy) => {
    const copy = new URLSearchParams(params);
    if (next === "live") copy.delete(COLOUR_PARAM);
    else copy.set(COLOUR_PARAM, next);
    setParams(copy);
  };
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
                <ColourSwitch by={by} onChange={choose} />
                {notice}
                <WorldMap sites={data.sites} colouring={colouring} />
                <Legend sites={data.sites} colouring={colouring} />
                <SiteTable sites={sorted} caption="Sites on the map (the map as a table)" showLocation />
              </>
            )}
          </QueryState>
        </div>
      </div>
    </Page>
  );
}
