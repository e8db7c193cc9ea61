// Small pieces the site, service and NGI pages share.
import { Link } from "react-router";
import { graphql } from "../../gql";
import type { TopologyDowntimeRowFragment } from "../../gql/graphql";

const TIME = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** A DateTime of the API as "3 Dec 2026, 18:00 UTC". */
export function formatTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : `${TIME.format(date)} UTC`;
}

/** A contact of personal data: the API gives null to those who may not read it. */
/** A contact, which the API reads as null both when it is hidden from the viewer and when it
 * is not set: `readable` (the object's contactsReadable, when the API has it) tells them
 * apart; without it a null says "hidden". */
export function Contact({
  label,
  value,
  readable,
}: {
  label: string;
  value: string | null | undefined;
  readable?: boolean;
}) {
  const missing =
    readable === true ? <span className="topology-unset">not set</span> : <span className="topology-hidden">hidden</span>;
  return (
    <>
      <dt>{label}</dt>
      <dd>{value === null || value === undefined ? missing : value || "—"}</dd>
    </>
  );
}

export function Scopes({ scopes }: { scopes: readonly { id: string; name: string }[] }) {
  if (scopes.length === 0) return <span className="empty">none</span>;
  return <span className="topology-scopes">{scopes.map((s) => s.name).join(", ")}</span>;
}

export function Properties({ properties }: { properties: readonly { key: string; value: string }[] }) {
  if (properties.length === 0) return <span className="empty">none</span>;
  return (
    <span className="topology-properties">
      {properties.map((p, index) => (
        <span key={p.key}>
          {index ? ", " : ""}
          <code>{p.key}</code>={p.value}
        </span>
      ))}
    </span>
  );
}

/** What DowntimeTable shows of a downtime: the site and service pages select it with
 * `...TopologyDowntimeRow`, so the table and its queries cannot drift apart. */
export const TopologyDowntimeRow = graphql(`
  fragment TopologyDowntimeRow on Downtime {
    id
    severity
    classification
    description
    startsAt
    endsAt
    ongoing
  }
`);

export function DowntimeTable({ downtimes }: { downtimes: readonly TopologyDowntimeRowFragment[] }) {
  if (downtimes.length === 0) return <p className="empty">No downtimes.</p>;
  return (
    <table className="topology-downtimes">
      <caption className="visually-hidden">Downtimes, by start</caption>
      <thead>
        <tr>
          <th scope="col">Downtime</th>
          <th scope="col">Severity</th>
          <th scope="col">Class</th>
          <th scope="col">Starts</th>
          <th scope="col">Ends</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {downtimes.map((downtime) => (
          <tr key={downtime.id}>
            <td>
              <Link to={`/downtimes/${encodeURIComponent(downtime.id)}`}>{downtime.description || "(no description)"}</Link>
            </td>
            <td>{downtime.severity}</td>
            <td>{downtime.classification}</td>
            <td>{formatTime(downtime.startsAt)}</td>
            <td>{formatTime(downtime.endsAt)}</td>
            <td>{downtime.ongoing ? "ongoing" : new Date(downtime.endsAt) < new Date() ? "ended" : "upcoming"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
