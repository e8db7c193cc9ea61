import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { CombinedError, useClient, useQuery } from "urql";
import { Page } from "../../components/Page";
import { PAGE_SIZE, Pager, useCursor } from "../../components/Pager";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import type { AvailabilityLevel, MonitoringAvailabilityItemQuery } from "../../gql/graphql";
import { fetchAllPages } from "../../graphql/allPages";
import { ArChart } from "./ArChart";
import {
  belowTarget,
  defaultRange,
  formatFraction,
  formatPercent,
  periodLabel,
  TARGETS,
  type ArKind,
  type Granularity,
} from "./ar";
import { AvailabilityItemQuery, AvailabilityOverviewQuery } from "./operations";

/** The levels a report is read at here: sites, and NGIs (ARGO's supergroups). */
const LEVELS = { SITE: { one: "site", many: "sites", parent: "NGI" }, SUPERGROUP: { one: "NGI", many: "NGIs", parent: "" } } as const;
type ShownLevel = keyof typeof LEVELS;

function Figure({ value, kind }: { value: number | null | undefined; kind: ArKind }) {
  const below = belowTarget(value, kind);
  return (
    <td className={below ? "ar-cell ar-below-text" : "ar-cell"} data-below={below ? "true" : undefined}>
      {formatPercent(value)}
      {below ? <span className="ar-flag"> below the {TARGETS[kind]} % target</span> : null}
    </td>
  );
}

function Filters({
  level,
  granularity,
  from,
  to,
  onApply,
}: {
  level: ShownLevel;
  granularity: Granularity;
  from: string;
  to: string;
  onApply: (next: { level: ShownLevel; granularity: Granularity; from: string; to: string }) => void;
}) {
  const [draft, setDraft] = useState({ level, granularity, from, to });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form className="ar-filters" onSubmit={submit} aria-label="Figures to show">
      <label htmlFor="ar-level">Level</label>
      <select
          id="ar-level"
          name="level"
          value={draft.level}
          onChange={(e) => setDraft({ ...draft, level: e.target.value as ShownLevel })}
        >
          <option value="SITE">Sites</option>
          <option value="SUPERGROUP">NGIs</option>
        </select>
      <fieldset>
        <legend>Per</legend>
        {(
          [
            ["MONTHLY", "Month"],
            ["DAILY", "Day"],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="ar-inline">
            <input
              type="radio"
              name="granularity"
              value={value}
              checked={draft.granularity === value}
              onChange={() => setDraft({ ...draft, granularity: value })}
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      <label>
        From <input type="date" name="from" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} required />
      </label>
      <label>
        To (inclusive){" "}
        <input type="date" name="to" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} required />
      </label>
      <button type="submit" className="primary">
        Show
      </button>
    </form>
  );
}

/** The server's largest page, and how many the chart reads at most: 8 pages of 100 periods
 * hold two years of days (a longer span is better read per month). */
export const CHART_PAGE = 100;
export const CHART_MAX_PAGES = 8;

type ItemPoint = MonitoringAvailabilityItemQuery["availability"]["nodes"][number];

interface ItemPoints {
  key: string;
  rows: ItemPoint[] | null;
  totalCount: number;
  error: CombinedError | undefined;
}

/** Every period of one item in the range, following the connection's cursor page after page
 * (at most CHART_MAX_PAGES): the chart shows the whole range, not the first page of it. */
function useItemPoints(variables: {
  report: string;
  level: AvailabilityLevel;
  name: string;
  from: string;
  to: string;
  granularity: Granularity;
}): ItemPoints {
  const client = useClient();
  const key = JSON.stringify(variables);
  const [state, setState] = useState<ItemPoints>({ key: "", rows: null, totalCount: 0, error: undefined });
  useEffect(() => {
    let live = true;
    let totalCount = 0;
    const found: ItemPoint[] = [];
    const fetchPage = async (after: string | null) => {
      const result = await client.query(AvailabilityItemQuery, { ...variables, first: CHART_PAGE, after }).toPromise();
      if (result.error) throw result.error;
      const page = result.data?.availability;
      if (!page) return { nodes: [], pageInfo: { hasNextPage: false } };
      totalCount = page.totalCount;
      return page;
    };
    fetchAllPages(fetchPage, { maxPages: CHART_MAX_PAGES, found }).then(
      () => live && setState({ key, rows: found, totalCount, error: undefined }),
      (error: unknown) =>
        live &&
        setState({
          key,
          rows: found.length ? found : null,
          totalCount,
          error: error instanceof CombinedError ? error : new CombinedError({ networkError: error as Error }),
        }),
    );
    return () => {
      live = false;
    };
  }, [client, key]); // `key` holds the variables
  return state.key === key ? state : { key, rows: null, totalCount: 0, error: undefined };
}

function ItemChart({
  report,
  level,
  name,
  from,
  to,
  granularity,
}: {
  report: string;
  level: ShownLevel;
  name: string;
  from: string;
  to: string;
  granularity: Granularity;
}) {
  const { rows, totalCount, error } = useItemPoints({ report, level: level as AvailabilityLevel, from, to, name, granularity });
  const per = granularity === "MONTHLY" ? "month" : "day";
  const title = `Availability and reliability of ${LEVELS[level].one} ${name} per ${per}`;
  return (
    <section aria-labelledby="ar-item" className="ar-item">
      <h2 id="ar-item">
        {name} per {per}
      </h2>
      {error && rows ? <ErrorMessage error={error} /> : null}
      <QueryState
        what={`figures of ${name}`}
        fetching={rows === null && !error}
        error={error}
        data={rows}
        isEmpty={(points) => points.length === 0}
        empty={`No figures of ${name} in this period.`}
      >
        {(points) => (
          <>
            {totalCount > points.length ? (
              <p className="notice" data-testid="ar-item-truncated">
                The chart shows the first {points.length} of {totalCount} {per}s: choose a shorter period, or per month, to
                see the rest.
              </p>
            ) : null}
            <ArChart points={points} granularity={granularity} title={title} />
            <table className="ar-table">
              <caption>{title} (the chart as a table)</caption>
              <thead>
                <tr>
                  <th scope="col">{granularity === "MONTHLY" ? "Month" : "Day"}</th>
                  <th scope="col">Availability</th>
                  <th scope="col">Reliability</th>
                  <th scope="col">Up</th>
                  <th scope="col">Unknown</th>
                  <th scope="col">Downtime</th>
                </tr>
              </thead>
              <tbody>
                {points.map((row) => (
                  <tr key={row.start}>
                    <th scope="row">{periodLabel(row, granularity)}</th>
                    <Figure value={row.availability} kind="availability" />
                    <Figure value={row.reliability} kind="reliability" />
                    <td>{formatFraction(row.uptime)}</td>
                    <td>{formatFraction(row.unknown)}</td>
                    <td>{formatFraction(row.downtime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </QueryState>
    </section>
  );
}

export default function AvailabilityPage() {
  const { report = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const level: ShownLevel = params.get("level") === "SUPERGROUP" ? "SUPERGROUP" : "SITE";
  const granularity: Granularity = params.get("granularity") === "DAILY" ? "DAILY" : "MONTHLY";
  const range = defaultRange(new Date(), granularity);
  const from = params.get("from") ?? range.from;
  const to = params.get("to") ?? range.to;
  const chosen = params.get("name");
  const words = LEVELS[level];
  const [after] = useCursor();
  const [{ data, fetching, error }] = useQuery({
    query: AvailabilityOverviewQuery,
    variables: { report, level: level as AvailabilityLevel, from, to, first: PAGE_SIZE, after },
  });
  const rows = data?.availability.nodes ?? [];
  const name = chosen ?? rows[0]?.name ?? null;
  const link = (item: string) => {
    const copy = new URLSearchParams(params);
    copy.set("name", item);
    return `?${copy.toString()}`;
  };
  return (
    <Page title={`Availability and reliability: ${report}`}>
      <p>
        The report <strong>{report}</strong>'s figures from {from} to {to}, against EGI's targets of{" "}
        {TARGETS.availability} % availability and {TARGETS.reliability} % reliability. Computed hourly by the workers, as
        ARGO computes them; <Link to="/monitoring">the catalogue</Link> shows the report's profiles, and{" "}
        <Link to={`/monitoring/recomputations?report=${encodeURIComponent(report)}`}>its recomputations</Link> the
        corrections applied.
      </p>
      <Filters
        key={`${level}-${granularity}-${from}-${to}`}
        level={level}
        granularity={granularity}
        from={from}
        to={to}
        onApply={(next) => {
          const copy = new URLSearchParams();
          copy.set("level", next.level);
          copy.set("granularity", next.granularity);
          if (next.from) copy.set("from", next.from);
          if (next.to) copy.set("to", next.to);
          if (next.level === level && chosen) copy.set("name", chosen);
          setParams(copy);
        }}
      />
      {name ? (
        <ItemChart report={report} level={level} name={name} from={from} to={to} granularity={granularity} />
      ) : null}
      <section aria-labelledby="ar-all">
        <h2 id="ar-all">
          All {words.many}, {from} to {to}
        </h2>
        <QueryState
          what="availability"
          fetching={fetching}
          error={error}
          data={data?.availability}
          isEmpty={(page) => page.totalCount === 0}
          empty={`No figures of this report's ${words.many} in this period yet.`}
        >
          {(page) => {
            const all = page.nodes;
            const missing = all.filter((r) => belowTarget(r.availability, "availability") || belowTarget(r.reliability, "reliability"));
            const where = page.totalCount > all.length ? " on this page" : "";
            return (
              <>
                <p aria-live="polite">
                  {missing.length} of the {all.length} {words.many}
                  {where} below a target over the whole period.
                </p>
                <table className="ar-table">
                  <caption>
                    Each {words.one}'s availability and reliability over the whole period; choose one to chart it
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">{level === "SITE" ? "Site" : "NGI"}</th>
                      {words.parent ? <th scope="col">{words.parent}</th> : null}
                      <th scope="col">Availability</th>
                      <th scope="col">Reliability</th>
                      <th scope="col">Unknown</th>
                      <th scope="col">Downtime</th>
                    </tr>
                  </thead>
                  <tbody>
                    {all.map((row) => (
                      <tr key={`${row.parent}/${row.name}`} aria-current={row.name === name ? "true" : undefined}>
                        <th scope="row">
                          <Link to={link(row.name)}>{row.name}</Link>
                        </th>
                        {words.parent ? <td>{row.parent}</td> : null}
                        <Figure value={row.availability} kind="availability" />
                        <Figure value={row.reliability} kind="reliability" />
                        <td>{formatFraction(row.unknown)}</td>
                        <td>{formatFraction(row.downtime)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <Pager page={page} what={words.many} />
              </>
            );
          }}
        </QueryState>
      </section>
    </Page>
  );
}
