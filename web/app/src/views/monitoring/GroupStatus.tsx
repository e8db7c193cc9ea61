// A site's or an NGI's status over today under a report (the `status` query's timeline, as the
// A/R engine builds it), read again whenever `statusChanges` tells of a change below it.
import { useEffect } from "react";
import { useQuery } from "urql";
import { GroupStatusQuery } from "./operations";
import type { StatusChange } from "./EndpointStatus";
import { StatusBadge } from "./StatusBadge";
import { StatusTimeline } from "./StatusTimeline";

export type GroupLevel = "SITE" | "SUPERGROUP";

export function GroupDayStatus({
  report,
  level,
  name,
  change,
}: {
  report: string;
  level: GroupLevel;
  name: string;
  /** The latest change seen live below this site or NGI: the timeline is read again. */
  change?: StatusChange | null;
}) {
  const [{ data, error }, refetch] = useQuery({ query: GroupStatusQuery, variables: { report, level, name } });
  const changed = change?.id;
  useEffect(() => {
    if (changed !== undefined) refetch({ requestPolicy: "network-only" });
  }, [changed]);
  const what = level === "SITE" ? "site" : "NGI";
  if (error) return <p className="empty">The {what}'s status is unavailable.</p>;
  if (!data) return <p className="loading">Loading the {what}'s status…</p>;
  const timeline = data.status[0];
  if (!timeline) return <p className="empty">The report {report} covers no service of this {what}.</p>;
  return (
    <div data-testid="group-status">
      <p>
        Status under {report} now: <StatusBadge status={timeline.status} />
      </p>
      <StatusTimeline title={`${name} under ${report}`} day={timeline.day} until={timeline.until} points={timeline.points} />
    </div>
  );
}
