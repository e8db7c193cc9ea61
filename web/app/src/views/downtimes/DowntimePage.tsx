import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { Page } from "../../components/Page";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import type { DowntimeDetailsQuery as DetailsResult } from "../../gql/graphql";
import { downtimePath, formatDuration, formatMoment, SEVERITY_WORDS } from "./format";
import { LiveToasts, useDowntimeEvents } from "./LiveEvents";
import {
  DeleteDowntimeMutation,
  DowntimeDetailsQuery,
  EndDowntimeForServicesMutation,
  EndDowntimeMutation,
} from "./operations";

type Downtime = NonNullable<DetailsResult["downtime"]>;

function PartialEnd({ downtime, onEnd }: { downtime: Downtime; onEnd: (serviceIds: string[]) => void }) {
  const still = downtime.affectedServices.filter((a) => !a.endedAt);
  const [chosen, setChosen] = useState<string[]>([]);
  if (still.length < 2) return null;
  return (
    <fieldset className="downtimes-partial">
      <legend>End for some services only</legend>
      <p>The chosen services leave the downtime 60 seconds from now; it goes on for the others.</p>
      {still.map((a) => (
        <label key={a.service.id} className="downtimes-inline">
          <input
            type="checkbox"
            checked={chosen.includes(a.service.id)}
            onChange={(e) =>
              setChosen((previous) =>
                e.target.checked ? [...previous, a.service.id] : previous.filter((id) => id !== a.service.id),
              )
            }
          />{" "}
          {a.service.hostName} ({a.service.serviceType})
        </label>
      ))}
      <button type="button" disabled={chosen.length === 0} onClick={() => onEnd(chosen)}>
        End for the chosen services
      </button>
    </fieldset>
  );
}

function Actions({ downtime }: { downtime: Downtime }) {
  const navigate = useNavigate();
  const [ended, endNow] = useMutation(EndDowntimeMutation);
  const [partial, endSome] = useMutation(EndDowntimeForServicesMutation);
  const [deleted, remove] = useMutation(DeleteDowntimeMutation);
  const error = ended.error ?? partial.error ?? deleted.error;
  // what the server says this viewer may do (never decided here)
  const canEdit = downtime.viewerCanEdit;
  const canEnd = downtime.viewerCanEnd;
  const canDelete = downtime.viewerCanDelete;
  // which of the allowed actions fit the downtime's state (the server still has the last word)
  const finished = new Date(downtime.endsAt).getTime() <= Date.now();
  const started = new Date(downtime.startsAt).getTime() <= Date.now();
  if (!(canEdit && !finished) && !(canEnd && downtime.ongoing) && !(canDelete && !started) && !error) return null;
  return (
    <section aria-labelledby="downtime-actions-title" className="downtimes-actions">
      <h2 id="downtime-actions-title">Actions</h2>
      <div className="downtimes-action-buttons">
        {canEdit && !finished ? (
          <Link className="button" to={`${downtimePath(downtime.id)}/edit`}>
            Edit
          </Link>
        ) : null}
        {canEnd && downtime.ongoing ? (
          <ConfirmButton
            label="End now"
            title="End this downtime now?"
            confirmLabel="End now"
            onConfirm={() => void endNow({ input: { id: downtime.id } })}
          >
            <p>It ends 60 seconds from now, for all of its services.</p>
          </ConfirmButton>
        ) : null}
        {canDelete && !started ? (
          <ConfirmButton
            label="Delete"
            title="Delete this downtime?"
            confirmLabel="Delete"
            danger
            onConfirm={() =>
              void remove({ input: { id: downtime.id } }).then((result) => {
                if (!result.error) void navigate("/downtimes");
              })
            }
          >
            <p>
              The downtime of {downtime.site.shortName} from {formatMoment(downtime.startsAt)} is cancelled; subscribers
              are told.
            </p>
          </ConfirmButton>
        ) : null}
      </div>
      {canEnd && downtime.ongoing ? (
        <PartialEnd downtime={downtime} onEnd={(serviceIds) => void endSome({ input: { id: downtime.id, serviceIds } })} />
      ) : null}
      {error ? <ErrorMessage error={error} /> : null}
    </section>
  );
}

function Details({ downtime }: { downtime: Downtime }) {
  const endpointsOf = (serviceId: string) => downtime.endpoints.filter((e) => e.service.id === serviceId);
  return (
    <>
      <dl className="details">
        <dt>Site</dt>
        <dd>
          <Link to={`/sites/${encodeURIComponent(downtime.site.shortName)}`}>{downtime.site.shortName}</Link> (
          {downtime.site.ngi.name})
        </dd>
        <dt>Severity</dt>
        <dd data-testid="downtime-severity">{SEVERITY_WORDS[downtime.severity] ?? downtime.severity}</dd>
        <dt>Classification</dt>
        <dd data-testid="downtime-classification">
          {downtime.classification} (decided by the server: SCHEDULED when declared more than 24 hours before its
          start)
        </dd>
        <dt>State</dt>
        <dd data-testid="downtime-state">
          {downtime.ongoing
            ? "Ongoing"
            : new Date(downtime.endsAt).getTime() <= Date.now()
              ? "Finished"
              : "Not started yet"}
        </dd>
        <dt>Start</dt>
        <dd>
          <time dateTime={downtime.startsAt}>{formatMoment(downtime.startsAt)}</time>
        </dd>
        <dt>End</dt>
        <dd data-testid="downtime-end">
          <time dateTime={downtime.endsAt}>{formatMoment(downtime.endsAt)}</time> (
          {formatDuration(downtime.startsAt, downtime.endsAt)})
        </dd>
        <dt>Description</dt>
        <dd>{downtime.description}</dd>
        <dt>Declared</dt>
        <dd>{formatMoment(downtime.declaredAt)}</dd>
        <dt>Announced</dt>
        <dd>{formatMoment(downtime.announcedAt)}</dd>
        <dt>Last changed</dt>
        <dd>{formatMoment(downtime.updatedAt)}</dd>
        {downtime.primaryKey ? (
          <>
            <dt>GOCDB key</dt>
            <dd>{downtime.primaryKey}</dd>
          </>
        ) : null}
      </dl>
      <h2>Affected services</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Service type</th>
            <th scope="col">Endpoints</th>
            <th scope="col">Left early</th>
          </tr>
        </thead>
        <tbody>
          {downtime.affectedServices.map((a) => (
            <tr key={a.service.id}>
              <td>
                <Link to={`/services/${encodeURIComponent(a.service.id)}`}>{a.service.hostName}</Link>
              </td>
              <td>{a.service.serviceType}</td>
              <td>
                {a.allEndpoints
                  ? "all"
                  : endpointsOf(a.service.id)
                      .map((e) => `${e.name} (${e.interfaceName})`)
                      .join(", ")}
              </td>
              <td>{a.endedAt ? formatMoment(a.endedAt) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export default function DowntimePage() {
  const { id = "" } = useParams();
  const [result, reexecute] = useQuery({ query: DowntimeDetailsQuery, variables: { id } });
  const [events, dismiss] = useDowntimeEvents(null, (event) => {
    if (event.downtimeId === id) reexecute({ requestPolicy: "network-only" });
  });
  const mine = events.filter((event) => event.downtimeId === id);
  const downtime = result.data?.downtime;
  return (
    <Page title={downtime ? `Downtime of ${downtime.site.shortName}` : "Downtime"}>
      <LiveToasts events={mine} dismiss={dismiss} />
      <QueryState what="downtime" fetching={result.fetching} error={result.error} data={result.data?.downtime}>
        {(found) => (
          <>
            <Details downtime={found} />
            <Actions downtime={found} />
          </>
        )}
      </QueryState>
      <p>
        <Link to="/downtimes">All downtimes</Link>
      </p>
    </Page>
  );
}
