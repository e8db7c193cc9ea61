import { Link } from "react-router";
import { useQuery } from "urql";
import { Page } from "../../components/Page";
import { QueryState } from "../../components/QueryState";
import { CatalogueQuery } from "./operations";
import { KINDS, profilePath, reportPath } from "./paths";

function parameters(value: unknown): string {
  if (!value || typeof value !== "object" || Object.keys(value).length === 0) return "—";
  return Object.entries(value as Record<string, unknown>)
    .map(([key, v]) => `${key}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
}

/** What monitoring checks and how it combines the results: read-only, for everyone. */
export default function CataloguePage() {
  const [{ data, fetching, error }] = useQuery({ query: CatalogueQuery, variables: {} });
  return (
    <Page title="Monitoring catalogue">
      <p>
        What the monitoring checks and how it combines the results, as valid today: ARGO's reports, profiles and weights,
        and the probes and metrics the workers run. Platform administrators change them through the API.{" "}
        <Link to="/monitoring/recomputations">Recomputations</Link> correct a report's figures over a period.
      </p>
      <QueryState what="catalogue" fetching={fetching} error={error} data={data}>
        {(catalogue) => (
          <>
            {KINDS.map(({ kind, title }) => {
              const profiles = catalogue.monitoringProfiles.nodes.filter((p) => p.kind === kind);
              const id = `catalogue-${kind.toLowerCase()}`;
              return (
                <section key={kind} aria-labelledby={id}>
                  <h2 id={id}>
                    {title} ({profiles.length})
                  </h2>
                  {profiles.length === 0 ? (
                    <p className="empty">None valid today.</p>
                  ) : (
                    <table className="monitoring-table">
                      <caption className="visually-hidden">{title} valid today</caption>
                      <thead>
                        <tr>
                          <th scope="col">Name</th>
                          <th scope="col">Description</th>
                          <th scope="col">Valid from</th>
                          {kind === "REPORT" ? <th scope="col">Figures</th> : null}
                        </tr>
                      </thead>
                      <tbody>
                        {profiles.map((profile) => (
                          <tr key={profile.id}>
                            <th scope="row">
                              <Link to={profilePath(kind, profile.profileId)}>{profile.name}</Link>
                            </th>
                            <td>{profile.description || "—"}</td>
                            <td>{profile.date}</td>
                            {kind === "REPORT" ? (
                              <td>
                                <Link to={reportPath(profile.name)}>Availability and reliability of {profile.name}</Link>
                              </td>
                            ) : null}
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </section>
              );
            })}
            <section aria-labelledby="catalogue-probes">
              <h2 id="catalogue-probes">Probes ({catalogue.monitoringProbes.totalCount})</h2>
              <table className="monitoring-table">
                <caption className="visually-hidden">Probes</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Version</th>
                    <th scope="col">Runs</th>
                    <th scope="col">Timeout</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {catalogue.monitoringProbes.nodes.map((probe) => (
                    <tr key={probe.id}>
                      <th scope="row">{probe.name}</th>
                      <td>{probe.version}</td>
                      <td>
                        {probe.kind === "BUILTIN" ? (
                          `built-in ${probe.builtin ?? ""}`
                        ) : (
                          <code>{probe.command.join(" ")}</code>
                        )}
                      </td>
                      <td>{probe.timeoutSeconds} s</td>
                      <td>{probe.description || "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <section aria-labelledby="catalogue-metrics">
              <h2 id="catalogue-metrics">Metrics ({catalogue.monitoringMetrics.totalCount})</h2>
              <table className="monitoring-table">
                <caption className="visually-hidden">Metrics valid today</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Probe</th>
                    <th scope="col">Parameters</th>
                    <th scope="col">Every</th>
                    <th scope="col">Retry every</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {catalogue.monitoringMetrics.nodes.map((metric) => (
                    <tr key={metric.id}>
                      <th scope="row">{metric.name}</th>
                      <td>
                        {metric.probeName} {metric.probeVersion}
                      </td>
                      <td>{parameters(metric.parameters)}</td>
                      <td>{metric.interval} s</td>
                      <td>{metric.retryInterval} s</td>
                      <td>{metric.description || "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </>
        )}
      </QueryState>
    </Page>
  );
}
