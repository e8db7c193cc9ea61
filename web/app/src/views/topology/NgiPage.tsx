import { Link, useParams } from "react-router";
import { useQuery } from "urql";
import { Page } from "../../components/Page";
import { QueryState } from "../../components/QueryState";
import { graphql } from "../../gql";
import { changeSentence, useLatestStatusChange, useReport } from "../monitoring/EndpointStatus";
import { GroupDayStatus } from "../monitoring/GroupStatus";
import { UsagePanel } from "../accounting/UsagePanel";
import { Contact, Scopes } from "./parts";
import { statusLabel } from "./status";

const NgiQuery = graphql(`
  query TopologyNgi($name: String!) {
    ngi(name: $name) {
      id
      name
      description
      email
      rodEmail
      securityEmail
      helpdeskEmail
      scopes {
        id
        name
      }
      sites {
        id
        shortName
        officialName
        certificationStatus
        country {
          code
          name
        }
      }
    }
  }
`);

export default function NgiPage() {
  const { name = "" } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: NgiQuery, variables: { name } });
  const { report, picker } = useReport();
  const change = useLatestStatusChange({ ngi: [name] });
  return (
    <Page title={`NGI ${name}`}>
      <QueryState what={`NGI ${name}`} fetching={fetching} error={error} data={data?.ngi}>
        {(ngi) => (
          <>
            <section aria-labelledby="ngi-details">
              <h2 id="ngi-details">Details</h2>
              <dl className="details">
                <dt>Description</dt>
                <dd>{ngi.description || "—"}</dd>
                <dt>Scopes</dt>
                <dd>
                  <Scopes scopes={ngi.scopes} />
                </dd>
                <Contact label="E-mail" value={ngi.email} />
                <Contact label="ROD e-mail" value={ngi.rodEmail} />
                <Contact label="Security e-mail" value={ngi.securityEmail} />
                <Contact label="Helpdesk e-mail" value={ngi.helpdeskEmail} />
              </dl>
            </section>
            <section aria-labelledby="ngi-status">
              <h2 id="ngi-status">Status</h2>
              {picker}
              <p role="status" aria-live="polite" className="monitoring-live" data-testid="live-status">
                {change ? `Live: ${changeSentence(change)}.` : "Live: status changes show here as they happen."}
              </p>
              {report ? <GroupDayStatus report={report} level="SUPERGROUP" name={ngi.name} change={change} /> : null}
            </section>
            <UsagePanel of="ngi" name={ngi.name} />
            <section aria-labelledby="ngi-sites">
              <h2 id="ngi-sites">Sites ({ngi.sites.length})</h2>
              <p>
                <Link to={`/sites?ngi=${encodeURIComponent(ngi.name)}`}>In the sites list</Link> ·{" "}
                <Link to={`/?ngi=${encodeURIComponent(ngi.name)}`}>On the map</Link>
              </p>
              {ngi.sites.length === 0 ? (
                <p className="empty">No sites.</p>
              ) : (
                <table>
                  <caption className="visually-hidden">Sites of {ngi.name}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Site</th>
                      <th scope="col">Official name</th>
                      <th scope="col">Country</th>
                      <th scope="col">Certification</th>
                    </tr>
                  </thead>
                  <tbody>
                    {ngi.sites.map((site) => (
                      <tr key={site.id}>
                        <th scope="row">
                          <Link to={`/sites/${encodeURIComponent(site.shortName)}`}>{site.shortName}</Link>
                        </th>
                        <td>{site.officialName}</td>
                        <td>{site.country.name}</td>
                        <td className={`status-${site.certificationStatus}`}>{statusLabel(site.certificationStatus)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </>
        )}
      </QueryState>
    </Page>
  );
}
