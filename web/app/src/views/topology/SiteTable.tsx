import { Link } from "react-router";
import type { SiteRow } from "./sitesData";
import { statusLabel } from "./status";

/** Sites as a table: the sites list, and the map's text alternative. */
export function SiteTable({ sites, caption, showLocation = false }: { sites: readonly SiteRow[]; caption: string; showLocation?: boolean }) {
  return (
    <table className="topology-sites">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Site</th>
          <th scope="col">Official name</th>
          <th scope="col">NGI</th>
          <th scope="col">Country</th>
          <th scope="col">Certification</th>
          <th scope="col">Infrastructure</th>
          <th scope="col">Scopes</th>
          {showLocation ? <th scope="col">Location</th> : null}
        </tr>
      </thead>
      <tbody>
        {sites.map((site) => (
          <tr key={site.id} data-site={site.shortName}>
            <th scope="row">
              <Link to={`/sites/${encodeURIComponent(site.shortName)}`}>{site.shortName}</Link>
            </th>
            <td>{site.officialName}</td>
            <td>
              <Link to={`/ngis/${encodeURIComponent(site.ngi.name)}`}>{site.ngi.name}</Link>
            </td>
            <td>
              {site.country.name} ({site.country.code})
            </td>
            <td className={`status-${site.certificationStatus}`}>{statusLabel(site.certificationStatus)}</td>
            <td>{site.productionInfrastructure === "PRODUCTION" ? "Production" : "Test"}</td>
            <td>{site.scopes.map((s) => s.name).join(", ")}</td>
            {showLocation ? (
              <td>
                {site.latitude != null && site.longitude != null
                  ? `${site.latitude.toFixed(2)}, ${site.longitude.toFixed(2)}`
                  : "not on the map (no coordinates)"}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
