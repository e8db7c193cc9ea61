import { useState } from "react";
import { Button, FieldError, Form, Label, ListBox, ListBoxItem, Popover, Select, SelectValue } from "react-aria-components";
import { Link, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { graphql } from "../../gql";
import type { CertificationStatus } from "../../gql/graphql";
import { fieldProblems } from "../../graphql/errors";
import { STATUSES } from "./filters";
import { changeSentence, EndpointStatusBadge, useLatestStatusChange, useReport } from "../monitoring/EndpointStatus";
import { GroupDayStatus } from "../monitoring/GroupStatus";
import { PublicationPanel } from "../accounting/PublicationPanel";
import { UsagePanel } from "../accounting/UsagePanel";
import { Contact, DowntimeTable, Properties, Scopes, formatTime } from "./parts";
import { SiteEditForm, type EditableSite } from "./SiteEditForm";
import { statusLabel } from "./status";

const SiteQuery = graphql(`
  query TopologySite($shortName: String!) {
    site(shortName: $shortName) {
      id
      primaryKey
      shortName
      officialName
      description
      certificationStatus
      certificationStatusChangedAt
      productionInfrastructure
      country {
        code
        name
      }
      timezone
      latitude
      longitude
      domain
      homeUrl
      giisUrl
      notify
      createdAt
      email
      telephone
      alarmEmail
      csirtEmail
      csirtTelephone
      contactsReadable
      roles {
        roleType
        userName
        userSubject
        grantedAt
      }
      viewerCanChangeCertificationStatus
      viewerCanDeclareDowntime
      viewerCanEdit
      viewerCanManageApiCredentials
      ngi {
        id
        name
      }
      scopes {
        id
        name
      }
      properties {
        key
        value
      }
      certificationStatusHistory {
        oldStatus
        newStatus
        changedAt
        changedBy
        reason
      }
      services {
        id
        hostName
        serviceType
        url
        production
        monitored
        beta
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
          properties {
            key
            value
          }
        }
      }
      downtimes {
        ...TopologyDowntimeRow
      }
    }
  }
`);

const SiteChangesQuery = graphql(`
  query TopologySiteChanges($entity: ID!, $after: String) {
    changes(filter: { entity: $entity }, first: 50, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        at
        actor
        action
        changes
        reason
      }
    }
  }
`);

const ChangeCertificationStatus = graphql(`
  mutation TopologyChangeCertificationStatus($input: ChangeCertificationStatusInput!) {
    changeCertificationStatus(input: $input) {
      site {
        id
        certificationStatus
        certificationStatusChangedAt
        viewerCanChangeCertificationStatus
        certificationStatusHistory {
          oldStatus
          newStatus
          changedAt
          changedBy
          reason
        }
      }
    }
  }
`);

function describeChanges(changes: unknown): string {
  if (!changes || typeof changes !== "object") return "";
  return Object.entries(changes as Record<string, unknown>)
    .map(([field, value]) => {
      if (Array.isArray(value) && value.length === 2) return `${field}: ${JSON.stringify(value[0])} → ${JSON.stringify(value[1])}`;
      return `${field}: ${JSON.stringify(value)}`;
    })
    .join("; ");
}

function ChangeLog({ siteId }: { siteId: string }) {
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({ query: SiteChangesQuery, variables: { entity: siteId, after } });
  return (
    <section aria-labelledby="site-changes">
      <h2 id="site-changes">Change log</h2>
      <QueryState
        what="changes"
        fetching={fetching}
        error={error}
        data={data?.changes}
        isEmpty={(changes) => changes.nodes.length === 0}
        empty="No change of this site that you may read."
      >
        {(changes) => (
          <>
            <table className="topology-changes">
              <caption className="visually-hidden">Changes of this site, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Changes</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {changes.nodes.map((change) => (
                  <tr key={change.id}>
                    <td>{formatTime(change.at)}</td>
                    <td>{change.actor}</td>
                    <td>{change.action}</td>
                    <td>{describeChanges(change.changes)}</td>
                    <td>{change.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p>
              {changes.totalCount} changes in all.{" "}
              {after ? (
                <button type="button" onClick={() => setAfter(null)}>
                  First changes
                </button>
              ) : null}{" "}
              {changes.pageInfo.hasNextPage && changes.pageInfo.endCursor ? (
                <button type="button" onClick={() => setAfter(changes.pageInfo.endCursor ?? null)}>
                  Later changes
                </button>
              ) : null}
            </p>
          </>
        )}
      </QueryState>
    </section>
  );
}

function CertificationForm({ siteId, current }: { siteId: string; current: CertificationStatus }) {
  const [status, setStatus] = useState<CertificationStatus | null>(null);
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const [result, change] = useMutation(ChangeCertificationStatus);
  const problems = fieldProblems(result.error);
  const choices = STATUSES.filter((s) => s !== current);
  return (
    <Form
      className="topology-certify"
      aria-labelledby="site-certify"
      onSubmit={(event) => {
        event.preventDefault();
        if (!status) return;
        setDone(null);
        void change({ input: { siteId, status, reason } }).then((answer) => {
          if (!answer.error) {
            setDone(`Certification status changed to ${statusLabel(status)}.`);
            setReason("");
            setStatus(null);
          }
        });
      }}
    >
      <h3 id="site-certify">Change certification status</h3>
      <Select
        className="topology-select"
        value={status}
        onChange={(key) => setStatus((key as CertificationStatus | null) ?? null)}
        placeholder="Choose a status"
        isRequired
        isInvalid={problems.status !== undefined}
        validationBehavior="aria"
      >
        <Label>New status</Label>
        <Button>
          <SelectValue />
          <span aria-hidden="true"> ▾</span>
        </Button>
        <Popover>
          <ListBox>
            {choices.map((choice) => (
              <ListBoxItem key={choice} id={choice}>
                {statusLabel(choice)}
              </ListBoxItem>
            ))}
          </ListBox>
        </Popover>
        <FieldError className="field-error" data-rule={problems.status?.rule ?? undefined}>
          {problems.status?.message}
        </FieldError>
      </Select>
      <FormField
        label="Reason"
        name="reason"
        value={reason}
        onChange={setReason}
        problem={problems.reason}
        description="Why; 1 to 300 characters, kept in the history"
        isRequired
      />
      <button type="submit" className="primary" disabled={result.fetching || status === null}>
        Change status
      </button>
      <span role="status">{done}</span>
      {result.error ? <ErrorMessage error={result.error} /> : null}
    </Form>
  );
}

export default function SitePage() {
  const { shortName = "" } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: SiteQuery, variables: { shortName } });
  const site = data?.site;
  const { report, picker } = useReport();
  const change = useLatestStatusChange({ site: [shortName] });
  return (
    <Page title={site ? `Site ${site.shortName}` : `Site ${shortName}`}>
      <QueryState what={`site ${shortName}`} fetching={fetching} error={error} data={site}>
        {(site) => (
          <div className="topology-site">
            <section aria-labelledby="site-details">
              <h2 id="site-details">Details</h2>
              <dl className="details">
                <dt>Official name</dt>
                <dd>{site.officialName ?? "—"}</dd>
                <dt>NGI</dt>
                <dd>
                  <Link to={`/ngis/${encodeURIComponent(site.ngi.name)}`}>{site.ngi.name}</Link>
                </dd>
                <dt>Country</dt>
                <dd>
                  {site.country.name} ({site.country.code})
                </dd>
                <dt>Certification status</dt>
                <dd className={`status-${site.certificationStatus}`} data-testid="certification-status">
                  {statusLabel(site.certificationStatus)}
                  {site.certificationStatusChangedAt ? ` since ${formatTime(site.certificationStatusChangedAt)}` : ""}
                </dd>
                <dt>Infrastructure</dt>
                <dd>{site.productionInfrastructure === "PRODUCTION" ? "Production" : "Test"}</dd>
                <dt>Description</dt>
                <dd>{site.description || "—"}</dd>
                <dt>Domain</dt>
                <dd>{site.domain ?? "—"}</dd>
                <dt>Home page</dt>
                <dd>{site.homeUrl ? <a href={site.homeUrl}>{site.homeUrl}</a> : "—"}</dd>
                <dt>Site BDII</dt>
                <dd>{site.giisUrl ?? "—"}</dd>
                <dt>Time zone</dt>
                <dd>{site.timezone ?? "—"}</dd>
                <dt>Location</dt>
                <dd>
                  {site.latitude != null && site.longitude != null ? `${site.latitude}, ${site.longitude}` : "—"}
                </dd>
                <dt>Legacy key</dt>
                <dd>{site.primaryKey ?? "—"}</dd>
                <dt>Created</dt>
                <dd>{formatTime(site.createdAt)}</dd>
                <dt>Scopes</dt>
                <dd>
                  <Scopes scopes={site.scopes} />
                </dd>
                <dt>Properties</dt>
                <dd>
                  <Properties properties={site.properties} />
                </dd>
              </dl>
            </section>

            <section aria-labelledby="site-contacts">
              <h2 id="site-contacts">Contacts</h2>
              <dl className="details">
                <Contact label="E-mail" value={site.email} readable={site.contactsReadable} />
                <Contact label="Telephone" value={site.telephone} readable={site.contactsReadable} />
                <Contact label="Alarm e-mail" value={site.alarmEmail} readable={site.contactsReadable} />
                <Contact label="CSIRT e-mail" value={site.csirtEmail} readable={site.contactsReadable} />
                <Contact label="CSIRT telephone" value={site.csirtTelephone} readable={site.contactsReadable} />
                <dt>Notifications</dt>
                <dd>{site.notify ? "on" : "off"}</dd>
              </dl>
            </section>

            <section aria-labelledby="site-roles">
              <h2 id="site-roles">Roles</h2>
              {!site.contactsReadable ? (
                <p className="empty" data-testid="site-roles-hidden">
                  Who holds roles over this site is personal data: it shows to those who hold a role in the same
                  project.
                </p>
              ) : site.roles.length === 0 ? (
                <p className="empty">No roles granted over this site.</p>
              ) : (
                <table className="topology-roles">
                  <caption className="visually-hidden">Roles granted over this site</caption>
                  <thead>
                    <tr>
                      <th scope="col">Role</th>
                      <th scope="col">Holder</th>
                      <th scope="col">Identity</th>
                      <th scope="col">Granted</th>
                    </tr>
                  </thead>
                  <tbody>
                    {site.roles.map((role, index) => (
                      <tr key={index}>
                        <td>{role.roleType}</td>
                        <td>{role.userName ?? "—"}</td>
                        <td>{role.userSubject}</td>
                        <td>{role.grantedAt ? formatTime(role.grantedAt) : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>

            <section aria-labelledby="site-actions" className="topology-actions">
              <h2 id="site-actions">Actions</h2>
              <SiteActions site={site} />
            </section>

            <section aria-labelledby="site-services">
              <h2 id="site-services">Services ({site.services.length})</h2>
              {picker}
              <p role="status" aria-live="polite" className="monitoring-live" data-testid="live-status">
                {change ? `Live: ${changeSentence(change)}.` : "Live: status changes show here as they happen."}
              </p>
              {report ? <GroupDayStatus report={report} level="SITE" name={site.shortName} change={change} /> : null}
              {site.services.length === 0 ? <p className="empty">No services.</p> : null}
              {site.services.map((service) => (
                <article key={service.id} className="topology-service" aria-labelledby={`service-${service.id}`}>
                  <h3 id={`service-${service.id}`}>
                    <Link to={`/services/${encodeURIComponent(service.id)}`}>
                      {service.serviceType} on {service.hostName}
                    </Link>
                  </h3>
                  {service.monitored && report ? (
                    <p>
                      Status under {report}:{" "}
                      <EndpointStatusBadge
                        report={report}
                        hostname={service.hostName}
                        serviceType={service.serviceType}
                        change={change}
                      />
                    </p>
                  ) : null}
                  <p>
                    {service.production ? "production" : "not production"} · {service.monitored ? "monitored" : "not monitored"}
                    {service.beta ? " · beta" : ""}
                    {service.url ? (
                      <>
                        {" "}
                        · <span className="topology-url">{service.url}</span>
                      </>
                    ) : null}
                  </p>
                  <p>
                    Scopes: <Scopes scopes={service.scopes} /> · Properties: <Properties properties={service.properties} />
                  </p>
                  {service.endpoints.length ? (
                    <ul className="topology-endpoints" aria-label={`Endpoints of ${service.hostName}`}>
                      {service.endpoints.map((endpoint) => (
                        <li key={endpoint.id}>
                          Endpoint <strong>{endpoint.name}</strong> ({endpoint.interfaceName})
                          {endpoint.url ? ` ${endpoint.url}` : ""}
                          {endpoint.monitored ? "" : " · not monitored"}
                          {endpoint.properties.length ? (
                            <>
                              {" "}
                              · <Properties properties={endpoint.properties} />
                            </>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </article>
              ))}
            </section>

            <section aria-labelledby="site-downtimes">
              <h2 id="site-downtimes">Downtimes</h2>
              <DowntimeTable downtimes={site.downtimes} />
            </section>

            <UsagePanel of="site" name={site.shortName} />

            <PublicationPanel site={site.shortName} />

            <section aria-labelledby="site-history">
              <h2 id="site-history">Certification history</h2>
              {site.certificationStatusHistory.length === 0 ? (
                <p className="empty">No change of the certification status recorded.</p>
              ) : (
                <table className="topology-history">
                  <caption className="visually-hidden">Certification status changes, oldest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">From</th>
                      <th scope="col">To</th>
                      <th scope="col">By</th>
                      <th scope="col">Reason</th>
                    </tr>
                  </thead>
                  <tbody>
                    {site.certificationStatusHistory.map((change, index) => (
                      <tr key={index}>
                        <td>{formatTime(change.changedAt)}</td>
                        <td>{statusLabel(change.oldStatus)}</td>
                        <td>{statusLabel(change.newStatus)}</td>
                        <td>{change.changedBy}</td>
                        <td>{change.reason}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>

            <ChangeLog siteId={site.id} />
          </div>
        )}
      </QueryState>
    </Page>
  );
}

function SiteActions({
  site,
}: {
  site: EditableSite & {
    shortName: string;
    certificationStatus: CertificationStatus;
    viewerCanDeclareDowntime: boolean;
    viewerCanChangeCertificationStatus: boolean;
    viewerCanEdit: boolean;
    viewerCanManageApiCredentials: boolean;
  };
}) {
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const canDeclare = site.viewerCanDeclareDowntime;
  const canCertify = site.viewerCanChangeCertificationStatus;
  const canEdit = site.viewerCanEdit;
  const canManageCredentials = site.viewerCanManageApiCredentials;
  if (!canDeclare && !canCertify && !canEdit && !canManageCredentials)
    return <p className="empty">You may not change this site.</p>;
  return (
    <>
      {canEdit ? (
        editing ? (
          <SiteEditForm
            site={site}
            onSaved={() => {
              setEditing(false);
              setSaved("Site saved.");
            }}
            onCancel={() => setEditing(false)}
          />
        ) : (
          <p>
            <button
              type="button"
              onClick={() => {
                setSaved(null);
                setEditing(true);
              }}
            >
              Edit site
            </button>
          </p>
        )
      ) : null}
      <p role="status">{saved}</p>
      {canDeclare ? (
        <p>
          <Link className="button" to={`/downtimes/new?site=${encodeURIComponent(site.shortName)}`}>
            Declare downtime
          </Link>
        </p>
      ) : null}
      {canManageCredentials ? (
        <p>
          <Link className="button" to={`/sites/${encodeURIComponent(site.shortName)}/credentials`}>
            API credentials
          </Link>
        </p>
      ) : null}
      {canCertify ? <CertificationForm siteId={site.id} current={site.certificationStatus} /> : null}
    </>
  );
}
