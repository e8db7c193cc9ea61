import { useMemo, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";
import { Page } from "../../components/Page";
import { Pager, useCursor } from "../../components/Pager";
import { QueryState } from "../../components/QueryState";
import { graphql } from "../../gql";
import type { DowntimeTimelineQuery as TimelineResult } from "../../gql/graphql";
import { FeedLinks } from "./FeedLinks";
import { downtimePath, formatDuration, formatMoment, formatShort } from "./format";
import { LiveToasts, useDowntimeEvents } from "./LiveEvents";
import { DowntimeTimelineQuery } from "./operations";
import { TimelineChart } from "./TimelineChart";
import {
  axisFor,
  feedParams,
  filterVariables,
  parseTimelineQuery,
  timelineParams,
  windowOf,
  type Severity,
  type Show,
  type TimelineQuery,
} from "./timeline";
import { useSites } from "./useDeclarableSites";
import { useNow } from "./useNow";

const SignedInQuery = graphql(`
  query DowntimesSignedIn {
    viewer {
      subject
    }
  }
`);

type Downtime = TimelineResult["downtimes"]["nodes"][number];

function Filters({ query, onApply }: { query: TimelineQuery; onApply: (next: TimelineQuery) => void }) {
  const [show, setShow] = useState<Show>(query.show);
  const [from, setFrom] = useState(query.from);
  const [to, setTo] = useState(query.to);
  const [sites, setSites] = useState(query.sites.join(", "));
  const [ngis, setNgis] = useState(query.ngis.join(", "));
  const [severities, setSeverities] = useState<Severity[]>(query.severities);
  const split = (value: string) =>
    value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply({ show, from, to, sites: split(sites), ngis: split(ngis), severities, problems: [] });
  };
  const toggle = (severity: Severity, on: boolean) =>
    setSeverities((previous) => (on ? [...previous, severity] : previous.filter((s) => s !== severity)));
  return (
    <form className="downtimes-filters" onSubmit={submit} aria-label="Downtime filters">
      <fieldset>
        <legend>Show</legend>
        {(
          [
            ["window", "In a window"],
            ["ongoing", "Ongoing now"],
            ["upcoming", "Upcoming"],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="downtimes-inline">
            <input type="radio" name="show" value={value} checked={show === value} onChange={() => setShow(value)} />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      {show === "window" ? (
        <>
          <label>
            From <input type="date" name="from" value={from} onChange={(e) => setFrom(e.target.value)} required />
          </label>
          <label>
            To (inclusive) <input type="date" name="to" value={to} onChange={(e) => setTo(e.target.value)} required />
          </label>
        </>
      ) : null}
      <label>
        Sites <input name="site" value={sites} onChange={(e) => setSites(e.target.value)} placeholder="e.g. INFN-T1, pic" />
      </label>
      <label>
        NGIs <input name="ngi" value={ngis} onChange={(e) => setNgis(e.target.value)} placeholder="e.g. NGI_IT" />
      </label>
      <fieldset>
        <legend>Severity</legend>
        {(["OUTAGE", "WARNING"] as const).map((severity) => (
          <label key={severity} className="downtimes-inline">
            <input
              type="checkbox"
              name="severity"
              value={severity}
              checked={severities.includes(severity)}
              onChange={(e) => toggle(severity, e.target.checked)}
            />{" "}
            {severity === "OUTAGE" ? "Outage" : "Warning"}
          </label>
        ))}
      </fieldset>
      <button type="submit" className="primary">
        Apply filters
      </button>
    </form>
  );
}

function DowntimeTable({ downtimes }: { downtimes: Downtime[] }) {
  return (
    <table className="downtimes-table" aria-label="Downtimes (the timeline as a table)">
      <thead>
        <tr>
          <th scope="col">Site</th>
          <th scope="col">NGI</th>
          <th scope="col">Severity</th>
          <th scope="col">Classification</th>
          <th scope="col">Start (your time)</th>
          <th scope="col">End (your time)</th>
          <th scope="col">Duration</th>
          <th scope="col">Services</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        {downtimes.map((d) => (
          <tr key={d.id} data-downtime={d.id}>
            <td>
              <Link to={downtimePath(d.id)}>{d.site.shortName}</Link>
              {d.ongoing ? <span className="downtimes-badge"> ongoing</span> : null}
            </td>
            <td>{d.site.ngi.name}</td>
            <td className={`downtimes-severity-${d.severity.toLowerCase()}`}>{d.severity}</td>
            <td>{d.classification}</td>
            <td>
              <time dateTime={d.startsAt} title={formatMoment(d.startsAt)}>
                {formatShort(d.startsAt)}
              </time>
            </td>
            <td>
              <time dateTime={d.endsAt} title={formatMoment(d.endsAt)}>
                {formatShort(d.endsAt)}
              </time>
            </td>
            <td>{formatDuration(d.startsAt, d.endsAt)}</td>
            <td>{d.services.map((s) => `${s.hostName} (${s.serviceType})`).join(", ")}</td>
            <td>{d.description}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function DowntimesPage() {
  const [params, setParams] = useSearchParams();
  const now = useNow();
  // the query's time window is fixed when the URL changes, not at every tick of `now`
  const query = useMemo(() => parseTimelineQuery(params, new Date()), [params]);
  const [after] = useCursor();
  const variables = useMemo(() => ({ filter: filterVariables(query), first: 100, after }), [query, after]);
  const [result, reexecute] = useQuery({ query: DowntimeTimelineQuery, variables });
  const [{ data: who }] = useQuery({ query: SignedInQuery });
  const signedIn = Boolean(who?.viewer);
  const { sites } = useSites(signedIn, 1); // one page says whether there is any
  const canDeclare = Boolean(sites?.some((site) => site.canDeclare));

  const eventFilter = useMemo(
    () => ({
      site: query.sites.length ? query.sites : null,
      ngi: query.ngis.length ? query.ngis : null,
      severity: query.severities.length ? query.severities : null,
    }),
    [query],
  );
  const [events, dismiss] = useDowntimeEvents(eventFilter, () => reexecute({ requestPolicy: "network-only" }));

  const apply = (next: TimelineQuery) => setParams(timelineParams(next, new Date()));

  return (
    <Page
      title="Downtimes"
      actions={
        canDeclare ? (
          <Link className="button primary" to="/downtimes/new">
            Declare a downtime
          </Link>
        ) : null
      }
    >
      <LiveToasts events={events} dismiss={dismiss} />
      {query.problems.length ? (
        <div className="notice" role="note">
          <p>Some of the address was not understood; the defaults are shown instead:</p>
          <ul>
            {query.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <Filters key={params.toString()} query={query} onApply={apply} />
      <QueryState
        what="downtimes"
        fetching={result.fetching}
        error={result.error}
        data={result.data}
        isEmpty={(data) => data.downtimes.nodes.length === 0}
        empty="No downtimes match these filters."
      >
        {(data) => {
          const downtimes = [...data.downtimes.nodes].sort(
            (a, b) => a.startsAt.localeCompare(b.startsAt) || a.site.shortName.localeCompare(b.site.shortName),
          );
          const items = downtimes.map((d) => ({
            id: d.id,
            site: d.site.shortName,
            startsAt: new Date(d.startsAt),
            endsAt: new Date(d.endsAt),
            severity: d.severity,
            classification: d.classification,
            description: d.description,
          }));
          const axis = axisFor(query.show, items, now, windowOf(query));
          return (
            <>
              <TimelineChart items={items} axis={axis} now={now} />
              <Pager
                shown={downtimes.length}
                totalCount={data.downtimes.totalCount}
                endCursor={data.downtimes.pageInfo.endCursor}
                hasNextPage={data.downtimes.pageInfo.hasNextPage}
                what="downtimes"
              />
              <DowntimeTable downtimes={downtimes} />
            </>
          );
        }}
      </QueryState>
      <FeedLinks params={feedParams(query, now)} />
    </Page>
  );
}
