import { useEffect, useState } from "react";
import { CombinedError, useClient } from "urql";
import type { SiteFilter } from "../../gql/graphql";
import { fetchAllSites, type SiteRow } from "./sitesData";

export interface AllSites {
  fetching: boolean;
  error?: CombinedError;
  data?: { sites: SiteRow[]; totalCount: number };
}

interface Loaded extends AllSites {
  /** The filter (as JSON) and client this answer is for. */
  key: string | null;
  client: unknown;
}

/** Every site matching `filter` (all pages), fetched again when the filter or the identity
 * (the urql client) changes. `fetching` is true from the very render in which the filter
 * changed, until its answer is in. */
export function useAllSites(filter: SiteFilter): AllSites {
  const client = useClient();
  const key = JSON.stringify(filter);
  const [state, setState] = useState<Loaded>({ fetching: true, key: null, client: null });
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, fetching: true, error: undefined }));
    fetchAllSites(client, JSON.parse(key) as SiteFilter).then(
      (data) => current && setState({ fetching: false, data, key, client }),
      (error: unknown) =>
        current &&
        setState({
          fetching: false,
          key,
          client,
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
  const stale = state.key !== key || state.client !== client;
  return { fetching: state.fetching || stale, error: state.error, data: state.data };
}
