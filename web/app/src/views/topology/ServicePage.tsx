import { Link, useParams } from "react-router";
import { useQuery } from "urql";
import { Page } from "../../components/Page";
import { QueryState } from "../../components/QueryState";
import { graphql } from "../../gql";
import { ServiceStatus } from "../monitoring/EndpointStatus";
import { Contact, DowntimeTable, Properties, Scopes, formatTime } from "./parts";

const ServiceQuery = graphql(`
  query TopologyService($id: ID!) {
    service(id: $id) {
      id
      primaryKey
      hostName
      serviceType
      url
      production
      monitored
      beta
      notify
      hostDn
      ipv4Address
      ipv6Address
      operatingSystem
      architecture
      description
      createdAt
      email
      viewerCanDeclareDowntime
      site {
        id
        shortName
        ngi {
          id
          name
        }
      }
      scopes {
        id
        name
      }
      properties {
        key
        value
      }
      endpoints {
        id
        name
        url
        interfaceName
        monitored
        description
        email
        properties {
          key
          value
        }
      }
      downtimes {
        ...TopologyDowntimeRow
      }
    }
  }
`);

const yesNo = (value: boolean) => (value ? "yes" : "no");

export default function ServicePage() {
  const { id = "" } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: ServiceQuery, variables: { id } });
  const service = data?.service;
  return (
    <Page title={service ? `${service.serviceType} on ${service.hostName}` : "Service"}>
      <QueryState what="service" fetching={fetching} error={error} data={service}>
        {(service) => (
          <div className="topology-service-page">
            <section aria-labelledby="service-details">
              <h2 id="service-details">Details</h2>
              <dl className="details">
                <dt>Site</dt>
                <dd>
                  <Link to={`/sites/${encodeURIComponent(service.site.shortName)}`}>{service.site.shortName}</Link> (NGI{" "}
                  <Link to={`/ngis/${encodeURIComponent(service.site.ngi.name)}`}>{service.site.ngi.name}</Link>)
                </dd>
                <dt>Service type</dt>
                <dd>{service.serviceType}</dd>
                <dt>Host</dt>
                <dd>{service.hostName}</dd>
                <dt>URL</dt>
                <dd>{service.url ?? "—"}</dd>
                <dt>Description</dt>
                <dd>{service.description || "—"}</dd>
                <dt>Production</dt>
                <dd>{yesNo(service.production)}</dd>
                <dt>Monitored</dt>
                <dd>{yesNo(service.monitored)}</dd>
                <dt>Beta</dt>
                <dd>{yesNo(service.beta)}</dd>
                <dt>Notifications</dt>
                <dd>{service.notify ? "on" : "off"}</dd>
                <dt>Host DN</dt>
                <dd>{service.hostDn ?? "—"}</dd>
                <dt>IPv4 / IPv6</dt>
                <dd>
                  {service.ipv4Address ?? "—"} / {service.ipv6Address ?? "—"}
                </dd>
                <dt>Operating system / architecture</dt>
                <dd>
                  {service.operatingSystem ?? "—"} / {service.architecture ?? "—"}
                </dd>
                <Contact label="E-mail" value={service.email} />
                <dt>Legacy key</dt>
                <dd>{service.primaryKey ?? "—"}</dd>
                <dt>Created</dt>
                <dd>{formatTime(service.createdAt)}</dd>
                <dt>Scopes</dt>
                <dd>
                  <Scopes scopes={service.scopes} />
                </dd>
                <dt>Properties</dt>
                <dd>
                  <Properties properties={service.properties} />
                </dd>
              </dl>
            </section>
            {service.monitored ? <ServiceStatus hostname={service.hostName} serviceType={service.serviceType} /> : null}
            <section aria-labelledby="service-endpoints">
              <h2 id="service-endpoints">Endpoints ({service.endpoints.length})</h2>
              {service.endpoints.length === 0 ? (
                <p className="empty">No endpoints.</p>
              ) : (
                <table className="topology-endpoint-table">
                  <caption className="visually-hidden">Endpoints of this service</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Interface</th>
                      <th scope="col">URL</th>
                      <th scope="col">Monitored</th>
                      <th scope="col">E-mail</th>
                      <th scope="col">Properties</th>
                    </tr>
                  </thead>
                  <tbody>
                    {service.endpoints.map((endpoint) => (
                      <tr key={endpoint.id}>
                        <th scope="row">{endpoint.name}</th>
                        <td>{endpoint.interfaceName}</td>
                        <td>{endpoint.url ?? "—"}</td>
                        <td>{yesNo(endpoint.monitored)}</td>
                        <td>{endpoint.email === null ? <span className="topology-hidden">hidden</span> : endpoint.email}</td>
                        <td>
                          <Properties properties={endpoint.properties} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <section aria-labelledby="service-downtimes">
              <h2 id="service-downtimes">Downtimes</h2>
              {service.viewerCanDeclareDowntime ? (
                <p>
                  <Link className="button" to={`/downtimes/new?site=${encodeURIComponent(service.site.shortName)}`}>
                    Declare downtime
                  </Link>
                </p>
              ) : null}
              <DowntimeTable downtimes={service.downtimes} />
            </section>
          </div>
        )}
      </QueryState>
    </Page>
  );
}
