import { Link, useParams } from "react-router";
import { useQuery } from "urql";
import { Page } from "../../components/Page";
import { QueryState } from "../../components/QueryState";
import type { MonitoringProfileKind } from "../../gql/graphql";
import { KINDS, reportPath } from "./paths";
import { ProfileHistoryQuery } from "./operations";

/** One profile, weights or report: every version, newest first, each as ARGO's JSON. */
export default function ProfilePage() {
  const { kind = "", profileId = "" } = useParams();
  const known = KINDS.find((k) => k.kind === kind.toUpperCase());
  const [{ data, fetching, error }] = useQuery({
    query: ProfileHistoryQuery,
    variables: { kind: (known?.kind ?? "REPORT") as MonitoringProfileKind, profileId },
    pause: !known,
  });
  const versions = [...(data?.monitoringProfileHistory.nodes ?? [])].reverse();
  const latest = versions[0];
  const what = known ? known.one.toLowerCase() : "profile";
  return (
    <Page title={latest ? `${known?.one ?? "Profile"} ${latest.name}` : `Monitoring ${what}`}>
      <p>
        <Link to="/monitoring">Back to the catalogue</Link>
        {latest && latest.kind === "REPORT" ? (
          <>
            {" "}
            · <Link to={reportPath(latest.name)}>Availability and reliability of {latest.name}</Link>
          </>
        ) : null}
      </p>
      {!known ? (
        <p className="empty">No such kind of profile: {kind}.</p>
      ) : (
        <QueryState
          what={what}
          fetching={fetching}
          error={error}
          data={data?.monitoringProfileHistory.nodes}
          isEmpty={(all) => all.length === 0}
          empty={`No ${what} ${profileId}.`}
        >
          {() => (
            <>
              {latest?.description ? <p>{latest.description}</p> : null}
              {versions.map((version, index) => {
                const id = `version-${version.id}`;
                const json = JSON.stringify(version.document, null, 2);
                return (
                  <section key={version.id} aria-labelledby={id} className="monitoring-version">
                    <h2 id={id}>
                      Version of {version.date}
                      {index === 0 ? " (latest)" : ""}
                    </h2>
                    {index === 0 ? (
                      <pre className="monitoring-json" tabIndex={0} aria-label={`ARGO JSON of the version of ${version.date}`}>
                        {json}
                      </pre>
                    ) : (
                      <details>
                        <summary>ARGO JSON of this version</summary>
                        <pre className="monitoring-json" tabIndex={0} aria-label={`ARGO JSON of the version of ${version.date}`}>
                          {json}
                        </pre>
                      </details>
                    )}
                  </section>
                );
              })}
            </>
          )}
        </QueryState>
      )}
    </Page>
  );
}
