import { useEffect, useState } from "react";
import { useClient, type OperationResult } from "urql";
import type { DowntimeSitePickerQuery } from "../../gql/graphql";
import { SitePickerQuery } from "./operations";

export interface PickableSite {
  id: string;
  shortName: string;
  ngi: string;
  canDeclare: boolean;
}

const MAX_PAGES = 20;

/** The sites on which the viewer may declare a downtime, as the server decides it
 * (`viewer.declarableSites`: the sites under their roles; every site for an administrator),
 * paged through 100 at a time (at most `maxPages` pages: one answers "anywhere?"). `null` while
 * loading. */
export function useSites(enabled = true, maxPages = MAX_PAGES): { sites: PickableSite[] | null; error: string | null } {
  const client = useClient();
  const [sites, setSites] = useState<PickableSite[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    void (async () => {
      const found: PickableSite[] = [];
      let after: string | null = null;
      for (let page = 0; page < maxPages; page += 1) {
        const result: OperationResult<DowntimeSitePickerQuery> = await client
          .query(SitePickerQuery, { first: 100, after })
          .toPromise();
        if (!live) return;
        if (result.error || !result.data) {
          setError(result.error?.message ?? "no answer");
          return;
        }
        const sites = result.data.viewer?.declarableSites;
        if (!sites) break; // signed out: nowhere
        for (const site of sites.nodes) {
          found.push({ id: site.id, shortName: site.shortName, ngi: site.ngi.name, canDeclare: true });
        }
        if (!sites.pageInfo.hasNextPage) break;
        after = sites.pageInfo.endCursor ?? null;
      }
      found.sort((a, b) => a.shortName.localeCompare(b.shortName));
      if (live) setSites(found);
    })();
    return () => {
      live = false;
    };
  }, [client, enabled, maxPages]);
  return { sites, error };
}
