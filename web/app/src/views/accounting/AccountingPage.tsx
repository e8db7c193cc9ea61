import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";
import { Page } from "../../components/Page";
import { QueryState } from "../../components/QueryState";
import { SharesChart, TimeChart } from "./AccountingCharts";
import { isRatio, monthsBetween, seriesDimension, shares, timeSeries, timeVariables, transpose } from "./charts";
import { AccountingPivotQuery, AccountingViewerQuery } from "./operations";
import {
  DIMENSIONS,
  formatPercent,
  formatValue,
  isDuration,
  LOCAL_JOBS,
  METRICS,
  portalUrl,
  queryVariables,
  readView,
  tabulate,
  UNITS,
  VO_GROUPS,
  writeView,
  type AccountingView,
  type PivotInput,
  type ScopeKind,
} from "./view";

function Choice<T extends string>({
  id,
  label,
  value,
  options,
  onChange,
}: {
  id: string;
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
}) {
  return (
    <span className="accounting-field">
      <label htmlFor={id}>{label}</label>{" "}
      <select id={id} name={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </span>
  );
}

function Filters({ view, signedIn, onApply }: { view: AccountingView; signedIn: boolean; onApply: (next: AccountingView) => void }) {
  const [draft, setDraft] = useState(view);
  const set = (patch: Partial<AccountingView>) => setDraft({ ...draft, ...patch });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply({ ...draft, scopeName: draft.scope ? draft.scopeName.trim() : "" });
  };
  const groups = VO_GROUPS.some((g) => g.value === draft.voGroup)
    ? VO_GROUPS
    : [...VO_GROUPS, { value: draft.voGroup, label: draft.voGroup }];
  return (
    <form className="ar-filters" onSubmit={submit} aria-label="Figures to show">
      <Choice id="acct-metric" label="Metric" value={draft.metric} options={METRICS} onChange={(metric) => set({ metric })} />
      {isDuration(draft.metric) ? (
        <Choice id="acct-unit" label="Unit" value={draft.unit} options={UNITS} onChange={(unit) => set({ unit })} />
      ) : null}
      <Choice id="acct-rows" label="Rows" value={draft.rows} options={DIMENSIONS} onChange={(rows) => set({ rows })} />
      <Choice id="acct-columns" label="Columns" value={draft.columns} options={DIMENSIONS} onChange={(columns) => set({ columns })} />
      <label>
        From <input type="month" name="from" value={draft.from} onChange={(e) => set({ from: e.target.value })} required />
      </label>
      <label>
        To (inclusive) <input type="month" name="to" value={draft.to} onChange={(e) => set({ to: e.target.value })} required />
      </label>
      <Choice id="acct-vo-group" label="VO group" value={draft.voGroup} options={groups} onChange={(voGroup) => set({ voGroup })} />
      <Choice
        id="acct-local-jobs"
        label="Jobs"
        value={draft.localJobs}
        options={LOCAL_JOBS}
        onChange={(localJobs) => set({ localJobs })}
      />
      <Choice<ScopeKind>
        id="acct-scope"
        label="Only"
        value={draft.scope}
        options={[
          { value: "", label: "every site" },
          { value: "site", label: "the site" },
          { value: "ngi", label: "the NGI" },
        ]}
        onChange={(scope) => set({ scope })}
      />
      {draft.scope ? (
        <label>
          {draft.scope === "site" ? "Site" : "NGI"}{" "}
          <input name="scopeName" value={draft.scopeName} onChange={(e) => set({ scopeName: e.target.value })} required />
        </label>
      ) : null}
      {signedIn ? (
        <label className="ar-inline">
          <input type="checkbox" name="mine" checked={draft.mine} onChange={(e) => set({ mine: e.target.checked })} /> Only
          my own jobs
        </label>
      ) : null}
      <button type="submit" className="primary">
        Show
      </button>
    </form>
  );
}

function label(list: { value: string; label: string }[], value: string): string {
  return list.find((item) => item.value === value)?.label ?? value;
}

/** The metric month by month, a line per key of the rows' dimension (the columns' when the
 * rows are the months), with its figures in a table that opens beneath; from the page's own
 * pivot when it has the months on one side, else from a pivot of its own. */
function OverTime({ view, pivot, metric }: { view: AccountingView; pivot: PivotInput; metric: string }) {
  const own = timeVariables(view);
  const [{ data, fetching, error }] = useQuery({
    query: AccountingPivotQuery,
    variables: own ?? queryVariables(view),
    pause: own === null,
  });
  const source = own === null ? (view.rows === "MONTH" ? transpose(pivot) : pivot) : data?.accounting;
  const dimension = label(DIMENSIONS, seriesDimension(view));
  return (
    <section aria-labelledby="acct-time">
      <h3 id="acct-time">
        {metric} per month, by {dimension}
      </h3>
      <QueryState what="the figures by month" fetching={fetching} error={error} data={source}>
        {(found) => {
          const series = timeSeries(found, monthsBetween(view.from, view.to), view.metric);
          const named = series.lines.length - (series.lines.length > series.keys ? 1 : 0);
          const which =
            series.keys > named
              ? isRatio(view.metric)
                ? `the first ${named} of ${series.keys}`
                : `the ${named} largest of ${series.keys} and the others together`
              : `all ${series.keys}`;
          return (
            <>
              <TimeChart
                series={series}
                axisName={metric}
                title={`${metric} per month, a line for each ${dimension} (${which}); the figures are in the table that follows`}
              />
              <details className="accounting-figures">
                <summary>The figures of this chart</summary>
                <div className="accounting-scroll" tabIndex={0} role="region" aria-label="The chart's figures, scrollable sideways">
                  <table className="ar-table accounting-table" data-testid="accounting-line-table">
                    <caption>
                      {metric} per month by {dimension} ({which})
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">{dimension} \ Month</th>
                        {series.months.map((month) => (
                          <th key={month} scope="col">
                            {month}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {series.lines.map((line) => (
                        <tr key={line.name}>
                          <th scope="row">{line.name}</th>
                          {line.values.map((value, index) => (
                            <td key={series.months[index]}>{formatValue(value, view.metric)}</td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            </>
          );
        }}
      </QueryState>
    </section>
  );
}

/** Each dimension's totals as a pie (the pivot's row and column totals, in its table). */
function Shares({ view, pivot, metric }: { view: AccountingView; pivot: PivotInput; metric: string }) {
  if (isRatio(view.metric)) {
    return <p className="empty">{metric} is a ratio, not a sum: it has no shares to draw as pies.</p>;
  }
  const sides = [
    { dimension: view.rows, totals: pivot.rowTotals, testId: "accounting-pie-rows" },
    { dimension: view.columns, totals: pivot.columnTotals, testId: "accounting-pie-columns" },
  ];
  return (
    <div className="accounting-pies">
      {sides.map(({ dimension, totals, testId }) => {
        const name = label(DIMENSIONS, dimension);
        const slices = shares(totals, view.metric);
        const largest = slices[0] ? `, the largest ${slices[0].name}` : "";
        return (
          <section key={testId} aria-label={`Shares by ${name}`}>
            <h3>Shares by {name}</h3>
            {slices.length ? (
              <SharesChart
                slices={slices}
                testId={testId}
                title={`${metric}: each ${name}'s share of the total${largest}; the table's totals hold the figures`}
              />
            ) : (
              <p className="empty">Nothing to share out.</p>
            )}
          </section>
        );
      })}
    </div>
  );
}

export default function AccountingPage() {
  const [params, setParams] = useSearchParams();
  const view = readView(params, new Date());
  const [viewer] = useQuery({ query: AccountingViewerQuery });
  const signedIn = Boolean(viewer.data?.viewer);
  const [{ data, fetching, error }] = useQuery({ query: AccountingPivotQuery, variables: queryVariables(view) });
  const metric = label(METRICS, view.metric);
  const unit = isDuration(view.metric) ? ` (${label(UNITS, view.unit)})` : "";
  const title = `${metric}${unit} by ${label(DIMENSIONS, view.rows)} and ${label(DIMENSIONS, view.columns)}`;
  return (
    <Page title="Accounting">
      <p>
        Usage of the infrastructure from the accounting summaries the sites send (as the EGI accounting portal shows it):
        any metric by any two dimensions over the months chosen. {view.mine ? "Your own jobs only." : null}
        {viewer.data?.viewer?.isAdmin ? (
          <>
            {" "}
            <Link to="/usage/rejects">The messages refused at intake</Link>.
          </>
        ) : null}
      </p>
      <Filters key={params.toString()} view={view} signedIn={signedIn} onApply={(next) => setParams(writeView(next))} />
      <p className="accounting-downloads">
        The same view as{" "}
        <a href={portalUrl(view, "csv")} download data-testid="accounting-csv">
          CSV
        </a>{" "}
        or{" "}
        <a href={portalUrl(view, "json")} data-testid="accounting-json">
          JSON
        </a>{" "}
        (the portal's routes{view.mine ? ", with your credentials" : ""}).
      </p>
      <QueryState
        what="accounting figures"
        fetching={fetching}
        error={error}
        data={data?.accounting}
        isEmpty={(pivot) => pivot.rows.length === 0}
        empty={`No usage from ${view.from} to ${view.to} for this choice.`}
      >
        {(pivot) => {
          const table = tabulate(pivot);
          return (
            <section aria-labelledby="acct-title">
              <h2 id="acct-title">
                {title}, {view.from} to {view.to}
              </h2>
              {pivot.vos ? <p>VOs counted: {pivot.vos.join(", ") || "none"}.</p> : null}
              <OverTime view={view} pivot={pivot} metric={`${metric}${unit}`} />
              <Shares view={view} pivot={pivot} metric={`${metric}${unit}`} />
              <div className="accounting-scroll" tabIndex={0} role="region" aria-label="The table, scrollable sideways">
                <table className="ar-table accounting-table" data-testid="accounting-table">
                  <caption>{title}, with each row's and column's total and its share of the grand total</caption>
                  <thead>
                    <tr>
                      <th scope="col">
                        {label(DIMENSIONS, view.rows)} \ {label(DIMENSIONS, view.columns)}
                      </th>
                      {table.columns.map((column) => (
                        <th key={column} scope="col">
                          {column || "(none)"}
                        </th>
                      ))}
                      <th scope="col">Total</th>
                      <th scope="col">Percent</th>
                    </tr>
                  </thead>
                  <tbody>
                    {table.rows.map((row) => (
                      <tr key={row.key}>
                        <th scope="row">{row.key || "(none)"}</th>
                        {row.values.map((value, index) => (
                          <td key={table.columns[index]}>{formatValue(value, view.metric)}</td>
                        ))}
                        <td>{formatValue(row.total, view.metric)}</td>
                        <td>{formatPercent(row.percent)}</td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row">Total</th>
                      {table.columnTotals.map((value, index) => (
                        <td key={table.columns[index]}>{formatValue(value, view.metric)}</td>
                      ))}
                      <td data-testid="accounting-total">{formatValue(table.total, view.metric)}</td>
                      <td>{view.metric === "CPUEFF" || table.total === null ? "–" : formatPercent(100)}</td>
                    </tr>
                    <tr>
                      <th scope="row">Percent</th>
                      {table.columnPercents.map((value, index) => (
                        <td key={table.columns[index]}>{formatPercent(value)}</td>
                      ))}
                      <td />
                      <td />
                    </tr>
                  </tfoot>
                </table>
              </div>
            </section>
          );
        }}
      </QueryState>
    </Page>
  );
}
