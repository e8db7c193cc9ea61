// Every site matching a filter, page after page (the map shows them all; the CSV export
// holds them all, whatever page the list is on).
import type { Client } from "urql";
import { graphql } from "../../gql";
import { fetchAllPages } from "../../graphql/allPages";
import type { SiteFilter, TopologySiteRowFragment } from "../../gql/graphql";

export const SiteRowFields = graphql(`
  fragment TopologySiteRow on Site {
    id
    shortName
    officialName
    certificationStatus
    productionInfrastructure
    latitude
    longitude
    country {
      code
      name
    }
    ngi {
      id
      name
    }
    scopes {
      id
      name
    }
  }
`);

export const SitesPageQuery = graphql(`
  query TopologySitesPage($filter: SiteFilter, $first: Int, $after: String) {
    sites(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...TopologySiteRow
      }
    }
  }
`);

export type SiteRow = TopologySiteRowFragment;

/** The server's largest page. */
export const ALL_PAGE = 100;
/** A guard against a server that never says the last page came. */
const MAX_PAGES = 1000;

function queryPage(client: Client, filter: SiteFilter, after: string | null) {
  return client.query(SitesPageQuery, { filter, first: ALL_PAGE, after }, { requestPolicy: "network-only" }).toPromise();
}

/** Follows the cursor to the end of the filtered list. */
export async function fetchAllSites(client: Client, filter: SiteFilter): Promise<{ sites: SiteRow[]; totalCount: number }> {
  let totalCount = 0;
  const sites = await fetchAllPages<SiteRow>(
    async (after) => {
      const result = await queryPage(client, filter, after);
      if (result.error) throw result.error;
      const connection = result.data?.sites;
      if (!connection) return { nodes: [], pageInfo: { hasNextPage: false } };
      totalCount = connection.totalCount;
      return connection;
    },
    { maxPages: MAX_PAGES },
  );
  return { sites, totalCount };
}

export const CSV_HEADER = [
  "shortName",
  "officialName",
  "ngi",
  "countryCode",
  "country",
  "certificationStatus",
  "productionInfrastructure",
  "latitude",
  "longitude",
  "scopes",
];

export function csvRow(site: SiteRow): (string | number | null | undefined)[] {
  return [
    site.shortName,
    site.officialName,
    site.ngi.name,
    site.country.code,
    site.country.name,
    site.certificationStatus,
    site.productionInfrastructure,
    site.latitude,
    site.longitude,
    site.scopes.map((s) => s.name).join(" "),
  ];
}
