import { useEffect, useState } from "react";
import { useClient } from "urql";
import { SitePickerQuery } from "./operations";

export interface PickableSite {
  id: string;
  shortName: string;
  ngi: string;
  canDeclare: boolean;
}

const MAX_PAGES = 20;

/** Every site (paged through, 100 at a time), with whether the viewer may declare a downtime
 * on it as the server says. `null` while loading. */
export function useSites(enabled = true): { sites: PickableSite[] | null; error: string | null } {
  const client = useClient();
  const [sites, setSites] = useState<PickableSite[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    void (async () => {
      const found: PickableSite[] = [];
      let after: string | null = null;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const result = await client.query(SitePickerQuery, { first: 100, after }).toPromise();
        if (!live) return;
        if (result.error || !result.data) {
          setError(result.error?.message ?? "no answer");
          return;
        }
        for (const site of result.data.sites.nodes) {
          found.push({ id: site.id, shortName: site.shortName, ngi: site.ngi.name, canDeclare: site.viewerCanDeclareDowntime });
        }
        if (!result.data.sites.pageInfo.hasNextPage) break;
        after = result.data.sites.pageInfo.endCursor ?? null;
      }
      found.sort((a, b) => a.shortName.localeCompare(b.shortName));
      if (live) setSites(found);
    })();
    return () => {
      live = false;
    };
  }, [client, enabled]);
  return { sites, error };
}
