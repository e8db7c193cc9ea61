// The Accounting page's state (issue 15): what the form chose, read from and written to the
// page's query string, turned into the GraphQL `accounting` variables, the portal's download
// URLs (gateway/compat/portal.py) and a pivot table with totals.
import type {
  AccountingDimension,
  AccountingLocalJobs,
  AccountingMetric,
  AccountingUnit,
} from "../../gql/graphql";

export const METRICS: { value: AccountingMetric; label: string; portal: string }[] = [
  { value: "NORMCPU", label: "Normalised CPU time (HS06)", portal: "normcpu" },
  { value: "SUMCPU", label: "CPU time", portal: "sumcpu" },
  { value: "NORMELAP", label: "Normalised wall time (HS06)", portal: "normelap" },
  { value: "SUMELAP", label: "Wall time", portal: "sumelap" },
  { value: "ELAP_PROCESSORS", label: "Wall time × processors", portal: "elap_processors" },
  { value: "NORMELAP_PROCESSORS", label: "Normalised wall time × processors", portal: "normelap_processors" },
  { value: "NJOBS", label: "Number of jobs", portal: "njobs" },
  { value: "CPUEFF", label: "CPU efficiency (%)", portal: "cpueff" },
];

export const UNITS: { value: AccountingUnit; label: string; portal: string }[] = [
  { value: "HOUR", label: "hours", portal: "hour" },
  { value: "DAY", label: "days", portal: "day" },
  { value: "SECOND", label: "seconds", portal: "second" },
];

/** The dimensions offered here, with the portal's path names (USER needs rights: not offered). */
export const DIMENSIONS: { value: AccountingDimension; label: string; portal: string }[] = [
  { value: "SITE", label: "Site", portal: "SITE" },
  { value: "NGI", label: "NGI", portal: "REGION" },
  { value: "COUNTRY", label: "Country", portal: "COUNTRY" },
  { value: "VO", label: "VO", portal: "VO" },
  { value: "MONTH", label: "Month", portal: "DATE" },
  { value: "YEAR", label: "Year", portal: "Year" },
  { value: "SUBMIT_HOST", label: "Submit host", portal: "SUBMITHOST" },
  { value: "PROCESSORS", label: "Processors", portal: "PROCESSORS" },
  { value: "INFRASTRUCTURE", label: "Infrastructure", portal: "INFRASTRUCTURE" },
];

export const VO_GROUPS: { value: string; label: string }[] = [
  { value: "all", label: "All VOs" },
  { value: "egi", label: "EGI VOs" },
  { value: "lhc", label: "LHC VOs" },
  { value: "top10", label: "Top 10 VOs" },
];

export const LOCAL_JOBS: { value: AccountingLocalJobs; label: string; portal: string }[] = [
  { value: "ONLY_INFRA", label: "Grid jobs only", portal: "onlyinfrajobs" },
  { value: "LOCAL_AND_INFRA", label: "Grid and local jobs", portal: "localinfrajobs" },
  { value: "ONLY_LOCAL", label: "Local jobs only", portal: "onlylocaljobs" },
];

export type ScopeKind = "" | "site" | "ngi";

export interface AccountingView {
  metric: AccountingMetric;
  unit: AccountingUnit;
  rows: AccountingDimension;
  columns: AccountingDimension;
  /** Months, YYYY-MM, both included. */
  from: string;
  to: string;
  voGroup: string;
  localJobs: AccountingLocalJobs;
  mine: boolean;
  scope: ScopeKind;
  /** The site's or NGI's name when `scope` is set. */
  scopeName: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

function monthOf(date: Date, back: number): string {
  const shifted = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - back, 1));
  return `${shifted.getUTCFullYear()}-${String(shifted.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The portal's default: NGIs by month over the last twelve months, normalised CPU in hours. */
export function defaultView(now: Date): AccountingView {
  return {
    metric: "NORMCPU",
    unit: "HOUR",
    rows: "NGI",
    columns: "MONTH",
    from: monthOf(now, 11),
    to: monthOf(now, 0),
    voGroup: "all",
    localJobs: "ONLY_INFRA",
    mine: false,
    scope: "",
    scopeName: "",
  };
}

function pick<T extends string>(value: string | null, allowed: { value: T }[], fallback: T): T {
  return allowed.find((item) => item.value === value)?.value ?? fallback;
}

/** The view a query string names; what it lacks or gets wrong is the default's. */
export function readView(params: URLSearchParams, now: Date): AccountingView {
  const base = defaultView(now);
  const month = (name: string, fallback: string) => {
    const value = params.get(name) ?? "";
    return MONTH.test(value) ? value : fallback;
  };
  const scope = params.get("scope");
  const scopeKind: ScopeKind = scope === "site" || scope === "ngi" ? scope : "";
  const scopeName = scopeKind ? (params.get("name") ?? "").trim() : "";
  const group = (params.get("voGroup") ?? "").trim();
  return {
    metric: pick(params.get("metric"), METRICS, base.metric),
    unit: pick(params.get("unit"), UNITS, base.unit),
    rows: pick(params.get("rows"), DIMENSIONS, base.rows),
    columns: pick(params.get("columns"), DIMENSIONS, base.columns),
    from: month("from", base.from),
    to: month("to", base.to),
    voGroup: group || base.voGroup,
    localJobs: pick(params.get("localJobs"), LOCAL_JOBS, base.localJobs),
    mine: params.get("mine") === "true",
    scope: scopeName ? scopeKind : "",
    scopeName,
  };
}

/** The query string of a view: all of it (not only what differs from the default), so a
 * shared link shows the same months next month too. */
export function writeView(view: AccountingView): URLSearchParams {
  const params = new URLSearchParams();
  params.set("metric", view.metric);
  if (isDuration(view.metric)) params.set("unit", view.unit);
  params.set("rows", view.rows);
  params.set("columns", view.columns);
  params.set("from", view.from);
  params.set("to", view.to);
  params.set("voGroup", view.voGroup);
  params.set("localJobs", view.localJobs);
  if (view.mine) params.set("mine", "true");
  if (view.scope && view.scopeName) {
    params.set("scope", view.scope);
    params.set("name", view.scopeName);
  }
  return params;
}

export function isDuration(metric: AccountingMetric): boolean {
  return metric !== "NJOBS" && metric !== "CPUEFF";
}

/** The GraphQL `accounting` variables of a view. */
export function queryVariables(view: AccountingView) {
  return {
    metric: view.metric,
    rows: view.rows,
    columns: view.columns,
    from: view.from,
    to: view.to,
    unit: view.unit,
    filter: {
      voGroup: view.voGroup,
      localJobs: view.localJobs,
      mine: view.mine,
      site: view.scope === "site" ? view.scopeName : null,
      ngi: view.scope === "ngi" ? view.scopeName : null,
    },
  };
}

function portalName<T extends string>(value: T, list: { value: T; portal: string }[]): string {
  return list.find((item) => item.value === value)?.portal ?? value.toLowerCase();
}

/** The portal route that answers the same view as CSV or JSON: /accounting/egi/... (or
 * /accounting/user/... for one's own usage, which needs the caller's credentials). */
export function portalUrl(view: AccountingView, format: "csv" | "json"): string {
  const metric = portalName(view.metric, METRICS);
  const segments: string[] = [view.mine ? "user" : "egi"];
  if (view.mine) {
    segments.push("htc");
    if (view.scope === "site") segments.push("resource_centre", view.scopeName);
    if (view.scope === "ngi") segments.push("operation_centre", view.scopeName);
  } else if (view.scope === "site") {
    segments.push("site", view.scopeName);
  } else if (view.scope === "ngi") {
    segments.push("htc", "operation_centre", view.scopeName);
  }
  const [fromYear, fromMonth] = view.from.split("-");
  const [toYear, toMonth] = view.to.split("-");
  segments.push(
    isDuration(view.metric) ? `${metric}-${portalName(view.unit, UNITS)}` : metric,
    portalName(view.rows, DIMENSIONS),
    portalName(view.columns, DIMENSIONS),
    fromYear ?? "",
    fromMonth ?? "",
    toYear ?? "",
    toMonth ?? "",
    view.voGroup,
    portalName(view.localJobs, LOCAL_JOBS),
    format.toUpperCase(),
  );
  return `/accounting/${segments.map((s) => encodeURIComponent(s)).join("/")}`;
}

export interface PivotInput {
  rows: string[];
  columns: string[];
  cells: { row: string; column: string; value?: number | null }[];
  rowTotals: { key: string; value?: number | null; percent?: number | null }[];
  columnTotals: { key: string; value?: number | null; percent?: number | null }[];
  total?: number | null;
}

export interface PivotRow {
  key: string;
  values: (number | null)[];
  total: number | null;
  percent: number | null;
}

/** The pivot as rows of cells in column order (a missing cell: null), with the totals. */
export function tabulate(pivot: PivotInput) {
  const cells = new Map(pivot.cells.map((cell) => [`${cell.row}\u0000${cell.column}`, cell.value ?? null]));
  const rowTotals = new Map(pivot.rowTotals.map((t) => [t.key, t]));
  const columnTotals = new Map(pivot.columnTotals.map((t) => [t.key, t]));
  const rows: PivotRow[] = pivot.rows.map((key) => ({
    key,
    values: pivot.columns.map((column) => cells.get(`${key}\u0000${column}`) ?? null),
    total: rowTotals.get(key)?.value ?? null,
    percent: rowTotals.get(key)?.percent ?? null,
  }));
  return {
    columns: pivot.columns,
    rows,
    columnTotals: pivot.columns.map((key) => columnTotals.get(key)?.value ?? null),
    columnPercents: pivot.columns.map((key) => columnTotals.get(key)?.percent ?? null),
    total: pivot.total ?? null,
  };
}

const NUMBER = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const FRACTION = new Intl.NumberFormat("en", { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** A figure as the table shows it: whole numbers, CPU efficiency with one decimal; "–" for none. */
export function formatValue(value: number | null, metric: AccountingMetric): string {
  if (value === null) return "–";
  return metric === "CPUEFF" ? FRACTION.format(value) : NUMBER.format(value);
}

export function formatPercent(value: number | null): string {
  return value === null ? "–" : `${FRACTION.format(value)} %`;
}
