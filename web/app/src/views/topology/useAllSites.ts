import { useEffect, useState } from "react";
import { CombinedError, useClient } from "urql";
import type { SiteFilter } from "../../gql/graphql";
import { fetchAllSites, type SiteRow } from "./sitesData";

export interface AllSites {
  fetching: boolean;
  error?: CombinedError;
  data?: { sites: SiteRow[]; totalCount: number };
}

/** Every site matching `filter` (all pages), fetched again when the filter or the identity
 * (the urql client) changes. */
export function useAllSites(filter: SiteFilter): AllSites {
  const client = useClient();
  const key = JSON.stringify(filter);
  const [state, setState] = useState<AllSites>({ fetching: true });
  useEffect(() => {
    let current = true;
    setState((previous) => ({ fetching: true, data: previous.data }));
    fetchAllSites(client, JSON.parse(key) as SiteFilter).then(
      (data) => current && setState({ fetching: false, data }),
      (error: unknown) =>
        current &&
        setState({
          fetching: false,
          error:
            error instanceof CombinedError
              ? error
              : new CombinedError({ networkError: error instanceof Error ? error : new Error(String(error)) }),
        }),
    );
    return () => {
      current = false;
    };
  }, [client, key]);
  return state;
}
