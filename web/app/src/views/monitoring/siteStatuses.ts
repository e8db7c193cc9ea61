// Every site's status now under a report, for the map: one `status` query at level SITE, then
// each site that `statusChanges` names is read again on its own (its status is its services'
// combined, which only the server knows), so the map follows the federation live.
import { useEffect, useMemo, useRef, useState } from "react";
import { useClient, useQuery, type CombinedError } from "urql";
import { useLatestStatusChange, type StatusChange } from "./EndpointStatus";
import { GroupStatusQuery, SiteStatusesQuery } from "./operations";

export interface SiteStatuses {
  /** Short name → status; null until the first answer. */
  statuses: ReadonlyMap<string, string> | null;
  error?: CombinedError;
  /** The latest change heard, for a live region. */
  change: StatusChange | null;
}

/** Paused (nothing asked, nothing heard) while `report` is null or `pause` is true. The sites
 * that changes name within `batchMs` of the first are read again together, each once. */
export function useSiteStatuses(report: string | null, pause = false, batchMs = 1000): SiteStatuses {
  const client = useClient();
  const off = pause || report === null;
  const [{ data, error }] = useQuery({ query: SiteStatusesQuery, variables: { report: report ?? "" }, pause: off });
  const change = useLatestStatusChange({}, off);
  const [updated, setUpdated] = useState<{ report: string | null; sites: Record<string, string> }>({ report, sites: {} });
  const pending = useRef(new Set<string>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
      pending.current.clear();
    },
    [report, off],
  );
  useEffect(() => {
    const site = change?.site;
    if (!site || report === null || off) return;
    pending.current.add(site);
    if (timer.current !== null) return;
    // a burst of changes (a whole site failing) reads each site once
    timer.current = setTimeout(() => {
      timer.current = null;
      const sites = [...pending.current];
      pending.current.clear();
      for (const name of sites) {
        void client
          .query(GroupStatusQuery, { report, level: "SITE", name }, { requestPolicy: "network-only" })
          .toPromise()
          .then((answer) => {
            const status = answer.data?.status[0]?.status;
            if (status === undefined) return;
            setUpdated((previous) => ({
              report,
              sites: { ...(previous.report === report ? previous.sites : {}), [name]: status },
            }));
          });
      }
    }, batchMs);
  }, [change?.id]);
  const statuses = useMemo(() => {
    if (!data || off) return null;
    const found = new Map(data.status.map((timeline) => [timeline.name, timeline.status]));
    if (updated.report === report) for (const [site, status] of Object.entries(updated.sites)) found.set(site, status);
    return found;
  }, [data, updated, report, off]);
  return { statuses, error, change };
}
