// The live status on the site and service pages, from what the API has today: an endpoint's
// status under a report (endpointStatus) and its metrics' (metricStatuses), read again
// whenever `statusChanges` (graphql-transport-ws) tells of a change there. The report is the
// first the catalogue lists, or the one chosen where there are several.
import { useEffect, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { useQuery, useSubscription } from "urql";
import type { MonitoringStatusChangesSubscription, StatusChangeFilter } from "../../gql/graphql";
import { ErrorMessage } from "../../components/QueryState";
import { formatMoment } from "../downtimes/format";
import {
  EndpointStatusQuery,
  MetricStatusChangesQuery,
  MetricStatusesQuery,
  ReportsQuery,
  StatusChangesSubscription,
} from "./operations";
import { reportPath } from "./paths";
import { StatusBadge } from "./StatusBadge";
import { StatusTimeline } from "./StatusTimeline";
import { metricDayPoints } from "./timeline";

export type StatusChange = MonitoringStatusChangesSubscription["statusChanges"];

/** The latest metric status change matching `filter`, as it happens (null until one). */
export function useLatestStatusChange(filter: StatusChangeFilter, pause = false): StatusChange | null {
  const [{ data }] = useSubscription({ query: StatusChangesSubscription, variables: { filter }, pause });
  return data?.statusChanges ?? null;
}

/** Reads a query again, from the server, each time `change` (an event's id) changes. */
function useRefreshOn(change: number | null | undefined, refetch: (opts: { requestPolicy: "network-only" }) => void) {
  useEffect(() => {
    if (change !== null && change !== undefined) refetch({ requestPolicy: "network-only" });
  }, [change]);
}

/** A change in words, for the polite live region. */
export function changeSentence(change: StatusChange): string {
  const was = change.previousStatus ? ` (was ${change.previousStatus})` : "";
  return `${change.metric} on ${change.hostname} is ${change.status}${was} since ${formatMoment(change.timestamp)}`;
}

/** The API's rule when a report expects no metric of a service type. */
const NOT_IN_REPORT = "STATUS_SERVICE_TYPE_NOT_IN_REPORT";

/** The reports (names), and the one chosen (at first `preferred` where it exists, else the
 * first), with a picker where there is a choice. */
export function useReport(preferred?: string): { report: string | null; picker: ReactNode; loaded: boolean } {
  const [{ data }] = useQuery({ query: ReportsQuery });
  const names = (data?.monitoringProfiles.nodes ?? []).map((r) => r.name);
  const [chosen, setChosen] = useState<string | null>(null);
  const first = preferred !== undefined && names.includes(preferred) ? preferred : (names[0] ?? null);
  const report = chosen && names.includes(chosen) ? chosen : first;
  const picker =
    names.length > 1 ? (
      <label>
        Report{" "}
        <select value={report ?? ""} onChange={(e) => setChosen(e.target.value)}>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
    ) : null;
  return { report, picker, loaded: data !== undefined };
}

/** An endpoint's status under a report, in a word; "not in report" where it expects nothing
 * of the service type. */
export function EndpointStatusBadge({
  report,
  hostname,
  serviceType,
  change,
}: {
  report: string;
  hostname: string;
  serviceType: string;
  /** The latest change seen live; one of this endpoint's reads the status again. */
  change?: StatusChange | null;
}) {
  const [{ data, error }, refetch] = useQuery({ query: EndpointStatusQuery, variables: { report, hostname, serviceType } });
  const mine = change && change.hostname === hostname && change.serviceType === serviceType ? change.id : null;
  useRefreshOn(mine, refetch);
  if (error?.graphQLErrors.some((e) => e.extensions?.rule === NOT_IN_REPORT)) {
    return <span className="monitoring-status monitoring-status-other">not in the report</span>;
  }
  if (error) return <span className="monitoring-status monitoring-status-other">status unavailable</span>;
  if (!data) return <span className="loading">…</span>;
  return (
    <>
      <StatusBadge status={data.endpointStatus.status} />
      {data.endpointStatus.inDowntime ? " (in downtime)" : null}
    </>
  );
}

/** A metric's status over today (UTC) from its changes since midnight, read again on a live
 * change of it. */
function MetricDayTimeline({
  hostname,
  serviceType,
  metric,
  current,
  change,
}: {
  hostname: string;
  serviceType: string;
  metric: string;
  current: string;
  change: StatusChange | null;
}) {
  const day = new Date().toISOString().slice(0, 10);
  const [{ data }, refetch] = useQuery({
    query: MetricStatusChangesQuery,
    variables: { hostname, serviceType, metric, since: `${day}T00:00:00+00:00` },
  });
  useRefreshOn(change && change.metric === metric ? change.id : null, refetch);
  if (!data) return null;
  return (
    <StatusTimeline
      title={metric}
      day={day}
      until={new Date().toISOString()}
      points={metricDayPoints(day, data.metricStatusChanges.nodes, current)}
    />
  );
}

/** The service's status under the report and each of its metrics' now. */
export function ServiceStatus({ hostname, serviceType }: { hostname: string; serviceType: string }) {
  const { report, picker } = useReport();
  const [{ data: metrics, error }, refetch] = useQuery({ query: MetricStatusesQuery, variables: { hostname, serviceType } });
  const change = useLatestStatusChange({ hostname: [hostname], serviceType: [serviceType] });
  useRefreshOn(change?.id, refetch);
  return (
    <section aria-labelledby="service-status">
      <h2 id="service-status">Status</h2>
      {report ? (
        <p data-testid="service-status">
          Under the report <Link to={reportPath(report)}>{report}</Link>:{" "}
          <EndpointStatusBadge report={report} hostname={hostname} serviceType={serviceType} change={change} /> {picker}
        </p>
      ) : null}
      <p role="status" aria-live="polite" className="monitoring-live" data-testid="live-status">
        {change ? `Live: ${changeSentence(change)}.` : "Live: changes show here as they happen."}
      </p>
      {error ? <ErrorMessage error={error} /> : null}
      {metrics && metrics.metricStatuses.nodes.length === 0 ? <p className="empty">No metric result of this service yet.</p> : null}
      {metrics && metrics.metricStatuses.nodes.length ? (
        <table className="monitoring-table">
          <caption className="visually-hidden">Each metric's status now</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Status</th>
              <th scope="col">Since</th>
              <th scope="col">Latest result</th>
              <th scope="col">Summary</th>
            </tr>
          </thead>
          <tbody>
            {metrics.metricStatuses.nodes.map((m) => (
              <tr key={m.metric}>
                <th scope="row">{m.metric}</th>
                <td>
                  <StatusBadge status={m.status} />
                </td>
                <td>{formatMoment(m.since)}</td>
                <td>{formatMoment(m.timestamp)}</td>
                <td>{m.summary ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {metrics && metrics.metricStatuses.nodes.length ? (
        <>
          <h3>Today</h3>
          {metrics.metricStatuses.nodes.map((m) => (
            <MetricDayTimeline
              key={m.metric}
              hostname={hostname}
              serviceType={serviceType}
              metric={m.metric}
              current={m.status}
              change={change}
            />
          ))}
        </>
      ) : null}
    </section>
  );
}
