import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useClient, useQuery, type CombinedError } from "urql";
import { PAGE_SIZE, Pager, useCursor } from "../../components/Pager";
import { Page } from "../../components/Page";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { download, toCsv } from "../../components/csv";
import { filterFromParams, filterQueryString } from "./filters";
import { SiteFilterForm } from "./SiteFilterForm";
import { SiteTable } from "./SiteTable";
import { CSV_HEADER, SitesPageQuery, csvRow, fetchAllSites } from "./sitesData";

function CsvExport() {
  const client = useClient();
  const [params] = useSearchParams();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CombinedError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const { sites } = await fetchAllSites(client, filterFromParams(params));
      download("sites.csv", toCsv(CSV_HEADER, sites.map(csvRow)));
      setDone(`Exported ${sites.length} sites.`);
    } catch (caught) {
      setError(caught as CombinedError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="topology-export">
      <button type="button" onClick={() => void run()} disabled={busy}>
        {busy ? "Exporting…" : "Export CSV (all pages)"}
      </button>
      <span role="status">{done}</span>
      {error ? <ErrorMessage error={error} /> : null}
    </div>
  );
}

export default function SitesPage() {
  const [params] = useSearchParams();
  const [after] = useCursor();
  const filter = useMemo(() => filterFromParams(params), [params]);
  const variables = useMemo(() => ({ filter, first: PAGE_SIZE, after }), [filter, after]);
  const [{ data, fetching: loading, error, operation }] = useQuery({ query: SitesPageQuery, variables });
  // Busy too while the data shown answers other variables: between a URL change and urql's
  // next render, `fetching` is still false with the previous filter's rows on the page.
  const fetching =
    loading || (operation !== undefined && JSON.stringify(operation.variables) !== JSON.stringify(variables));
  return (
    <Page
      title="Sites"
      actions={
        <>
          <Link to={`/${filterQueryString(params)}`}>These sites on the map</Link>
          <CsvExport />
        </>
      }
    >
      <div className="topology-layout">
        <SiteFilterForm />
        <div className="topology-main" aria-busy={fetching} data-testid="sites-result">
          <QueryState
            what="sites"
            fetching={fetching}
            error={error}
            data={data?.sites}
            isEmpty={(sites) => sites.nodes.length === 0}
            empty="No site matches these filters."
          >
            {(sites) => (
              <>
                <SiteTable sites={sites.nodes} caption="Sites matching the filters" />
                <Pager page={sites} what="sites" />
              </>
            )}
          </QueryState>
        </div>
      </div>
    </Page>
  );
}
