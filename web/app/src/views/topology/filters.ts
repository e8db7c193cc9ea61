// The sites filter (the API's SiteFilter) kept in the URL, so a filtered map or list can be
// shared: ?ngi=NGI_DE&ngi=NGI_IT&country=DE&status=CERTIFIED&infra=PRODUCTION&scope=EGI&scopeMatch=ALL
import type { CertificationStatus, ProductionInfrastructure, ScopeMatch, SiteFilter } from "../../gql/graphql";

export const STATUSES: readonly CertificationStatus[] = ["CERTIFIED", "CANDIDATE", "UNCERTIFIED", "SUSPENDED", "CLOSED"];
export const INFRASTRUCTURES: readonly ProductionInfrastructure[] = ["PRODUCTION", "TEST"];

/** The URL parameters that make up the filter (paging's `after` is not one of them). */
export const FILTER_PARAMS = ["ngi", "country", "status", "infra", "scope", "scopeMatch"] as const;

const oneOf = <T extends string>(allowed: readonly T[], value: string): value is T =>
  (allowed as readonly string[]).includes(value);

function values(params: URLSearchParams, name: string): string[] {
  return params
    .getAll(name)
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value !== "");
}

/** The SiteFilter the URL asks for; parameters that name nothing valid are ignored. Absent
 * scopes leave `scopes` out (the instance's default scopes apply). */
export function filterFromParams(params: URLSearchParams): SiteFilter {
  const filter: SiteFilter = {};
  const ngi = values(params, "ngi");
  if (ngi.length) filter.ngi = ngi;
  const country = values(params, "country");
  if (country.length) filter.country = country;
  const status = values(params, "status").map((s) => s.toUpperCase()).filter((s) => oneOf(STATUSES, s));
  if (status.length) filter.certificationStatus = status;
  const infra = values(params, "infra").map((s) => s.toUpperCase()).filter((s) => oneOf(INFRASTRUCTURES, s));
  if (infra.length) filter.productionInfrastructure = infra;
  const scopes = values(params, "scope");
  if (scopes.length) filter.scopes = scopes;
  const match = (params.get("scopeMatch") ?? "").toUpperCase();
  if (scopes.length && oneOf<ScopeMatch>(["ANY", "ALL"], match)) filter.scopeMatch = match;
  return filter;
}

/** `params` with one filter parameter replaced (removed when `next` is empty); the page
 * cursor is dropped, since a new filter starts at its first page. */
export function withFilter(params: URLSearchParams, name: (typeof FILTER_PARAMS)[number], next: string | string[]): URLSearchParams {
  const copy = new URLSearchParams(params);
  copy.delete(name);
  copy.delete("after");
  for (const value of Array.isArray(next) ? next : [next]) {
    if (value !== "") copy.append(name, value);
  }
  return copy;
}

/** Only the filter's parameters, e.g. to link from the map to the same filter on /sites. */
export function filterQueryString(params: URLSearchParams): string {
  const copy = new URLSearchParams();
  for (const name of FILTER_PARAMS) for (const value of params.getAll(name)) copy.append(name, value);
  const text = copy.toString();
  return text ? `?${text}` : "";
}

/** Countries as typed: "DE, Italy" -> ["DE", "Italy"]. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}
