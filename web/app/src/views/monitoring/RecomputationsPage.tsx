// Recomputations (ARGO's corrections of a report's availability): every one, a page at a
// time, of one report or all; signed-in users may ask for one — sites, metrics and
// monitoring sources to exclude, states to apply (the server decides over which sites: their
// sites' or NGIs', everywhere for platform administrators) — and edit (a replacement), move
// through ARGO's workflow or delete (after a confirmation) those their `manageable` allows.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { PAGE_SIZE, Pager, useCursor } from "../../components/Pager";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { SignInNotice } from "../../components/SignInNotice";
import type { MonitoringRecomputationsQuery } from "../../gql/graphql";
import { fieldProblems, type FieldProblem } from "../../graphql/errors";
import {
  CreateRecomputationMutation,
  DeleteRecomputationMutation,
  RecomputationsQuery,
  ReportsQuery,
  SetRecomputationStatusMutation,
  UpdateRecomputationMutation,
} from "./operations";
import { reportPath } from "./paths";
import {
  draftOf,
  EMPTY_CHANGE,
  EMPTY_METRIC,
  EMPTY_RECOMPUTATION,
  EMPTY_SOURCE,
  partsOf,
  periodOf,
  recomputationInput,
  STATES,
  type ChangeDraft,
  type MetricDraft,
  type RecomputationDraft,
  type SourceDraft,
} from "./recomputations";

type Recomputation = MonitoringRecomputationsQuery["recomputations"]["nodes"][number];

/** The fields (as `fieldProblems` keys them) this form shows a problem beside; any other
 * problem is shown above its buttons. */
const SHOWN = [
  /^(report|reason|requesterName|requesterEmail|startTime|endTime|excludeMetrics|excludeMonitoringSource|appliedStatusChanges)$/,
  /^exclude(\[\d+\])?$/,
  /^excludeMetrics\[\d+\]\.(metric|hostname|service|group)$/,
  /^excludeMonitoringSource\[\d+\]\.(host|startTime|endTime)$/,
  /^appliedStatusChanges\[\d+\](\.(state|group|service|endpoint|metric|startTime|endTime))?$/,
];

function shown(field: unknown): boolean {
  const key = String(field ?? "").replace(/^input\./, "");
  return SHOWN.some((pattern) => pattern.test(key));
}

/** A problem that is not a field's own: shown as an alert where it applies. */
function Problem({ problem }: { problem: FieldProblem | undefined }) {
  if (!problem) return null;
  return (
    <p className="field-error" data-rule={problem.rule ?? undefined} role="alert">
      {problem.message}
    </p>
  );
}

/** A labelled choice with the server's rule for it beside it. */
function Choice({
  id,
  label,
  value,
  options,
  onChange,
  problem,
}: {
  id: string;
  label: string;
  value: string;
  options: readonly string[];
  onChange: (value: string) => void;
  problem: FieldProblem | undefined;
}) {
  return (
    <div className="form-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={problem ? true : undefined}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
      <Problem problem={problem} />
    </div>
  );
}

/** One kind of entry (metric exclusions, …): each in its own group with Remove, then Add. */
function Entries<T>({
  list,
  what,
  legend,
  empty,
  entries,
  onChange,
  problems,
  children,
}: {
  list: string;
  what: string;
  legend: string;
  empty: T;
  entries: T[];
  onChange: (entries: T[]) => void;
  problems: Record<string, FieldProblem>;
  children: (entry: T, set: (key: keyof T) => (value: string) => void, at: (key: string) => FieldProblem | undefined, index: number) => ReactNode;
}) {
  return (
    <fieldset className="recomputation-entries">
      <legend>{legend}</legend>
      <Problem problem={problems[list]} />
      {entries.map((entry, index) => {
        const set = (key: keyof T) => (value: string) =>
          onChange(entries.map((e, i) => (i === index ? { ...e, [key]: value } : e)));
        const at = (key: string) => problems[`${list}[${index}].${key}`];
        return (
          <fieldset key={index} className="recomputation-entry">
            <legend>
              {what} {index + 1}
            </legend>
            <Problem problem={problems[`${list}[${index}]`]} />
            {children(entry, set, at, index)}
            <button type="button" onClick={() => onChange(entries.filter((_, i) => i !== index))}>
              Remove<span className="visually-hidden"> {what.toLowerCase()} {index + 1}</span>
            </button>
          </fieldset>
        );
      })}
      <button type="button" onClick={() => onChange([...entries, { ...empty }])}>
        Add a {what.toLowerCase()}
      </button>
    </fieldset>
  );
}

function RecomputationForm({
  reports,
  initial,
  editing,
  onDone,
  onCancel,
}: {
  reports: string[];
  initial: RecomputationDraft;
  /** The recomputation replaced; null: a new one. */
  editing: Recomputation | null;
  onDone: (message: string) => void;
  onCancel?: () => void;
}) {
  const [draft, setDraft] = useState<RecomputationDraft>(initial);
  const [created, create] = useMutation(CreateRecomputationMutation);
  const [updated, update] = useMutation(UpdateRecomputationMutation);
  const [error, setError] = useState<CombinedError | undefined>(undefined);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (editing) heading.current?.focus();
  }, [editing]);
  const problems = fieldProblems(error);
  const sites = Object.entries(problems).find(([key]) => /^exclude(\[\d+\])?$/.test(key))?.[1];
  const unmapped = error && (error.networkError || error.graphQLErrors.some((e) => !shown(e.extensions?.field)));
  const set = (key: "report" | "reason" | "requesterName" | "requesterEmail" | "startTime" | "endTime" | "exclude") => (value: string) =>
    setDraft((previous) => ({ ...previous, [key]: value }));
  const title = editing ? `Edit the recomputation “${editing.reason}”` : "Ask for a recomputation";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = recomputationInput(draft);
    const answer = editing ? await update({ input: { ...input, id: editing.id } }) : await create({ input });
    setError(answer.error);
    if (answer.error) return;
    if (!editing) setDraft({ ...EMPTY_RECOMPUTATION, report: draft.report });
    onDone(
      editing
        ? `Recomputation “${input.reason}” saved: the days it touched and touches are computed again.`
        : `Recomputation of ${draft.report} made: the days it touches are computed again.`,
    );
  };
  return (
    <form className="monitoring-rule-form recomputation-form" onSubmit={(e) => void submit(e)} noValidate aria-label={title}>
      {editing ? (
        <h3 ref={heading} tabIndex={-1}>
          {title}
        </h3>
      ) : null}
      <Choice id="recomputation-report" label="Report" value={draft.report} options={reports} onChange={set("report")} problem={problems.report} />
      <FormField label="Reason" name="reason" value={draft.reason} onChange={set("reason")} problem={problems.reason} isRequired />
      <FormField
        label="Requester's name"
        name="requesterName"
        value={draft.requesterName}
        onChange={set("requesterName")}
        problem={problems.requesterName}
        isRequired
      />
      <FormField
        label="Requester's e-mail"
        name="requesterEmail"
        type="email"
        value={draft.requesterEmail}
        onChange={set("requesterEmail")}
        problem={problems.requesterEmail}
        isRequired
      />
      <FormField
        label="Start (UTC)"
        name="startTime"
        type="datetime-local"
        value={draft.startTime}
        onChange={set("startTime")}
        problem={problems.startTime}
        isRequired
      />
      <FormField
        label="End (UTC)"
        name="endTime"
        type="datetime-local"
        value={draft.endTime}
        onChange={set("endTime")}
        problem={problems.endTime}
        isRequired
      />
      <FormField
        label="Sites to exclude"
        name="exclude"
        value={draft.exclude}
        onChange={set("exclude")}
        problem={sites}
        description="Short names, comma-separated: their time in the period counts as unknown."
      />
      <p className="monitoring-note">
        A metric or state of no particular site or host, and a monitoring source, change every site's figures: only
        platform administrators may apply them.
      </p>
      <Entries<MetricDraft>
        list="excludeMetrics"
        what="Metric exclusion"
        legend="Metrics to exclude (their results count as excluded)"
        empty={EMPTY_METRIC}
        entries={draft.metrics}
        onChange={(metrics) => setDraft((previous) => ({ ...previous, metrics }))}
        problems={problems}
      >
        {(entry, setEntry, at, index) => (
          <>
            <FormField label="Metric" name={`excludeMetrics[${index}].metric`} value={entry.metric} onChange={setEntry("metric")} problem={at("metric")} isRequired />
            <FormField label="Site" name={`excludeMetrics[${index}].group`} value={entry.group} onChange={setEntry("group")} problem={at("group")} description="Short name; empty: every site." />
            <FormField label="Host" name={`excludeMetrics[${index}].hostname`} value={entry.hostname} onChange={setEntry("hostname")} problem={at("hostname")} />
            <FormField label="Service type" name={`excludeMetrics[${index}].service`} value={entry.service} onChange={setEntry("service")} problem={at("service")} />
          </>
        )}
      </Entries>
      <Entries<SourceDraft>
        list="excludeMonitoringSource"
        what="Monitoring source"
        legend="Monitoring sources to exclude (their results are dropped over their own period)"
        empty={EMPTY_SOURCE}
        entries={draft.sources}
        onChange={(sources) => setDraft((previous) => ({ ...previous, sources }))}
        problems={problems}
      >
        {(entry, setEntry, at, index) => (
          <>
            <FormField label="Monitoring host" name={`excludeMonitoringSource[${index}].host`} value={entry.host} onChange={setEntry("host")} problem={at("host")} isRequired />
            <FormField label="From (UTC)" name={`excludeMonitoringSource[${index}].startTime`} type="datetime-local" value={entry.startTime} onChange={setEntry("startTime")} problem={at("startTime")} isRequired />
            <FormField label="Until (UTC)" name={`excludeMonitoringSource[${index}].endTime`} type="datetime-local" value={entry.endTime} onChange={setEntry("endTime")} problem={at("endTime")} isRequired />
          </>
        )}
      </Entries>
      <Entries<ChangeDraft>
        list="appliedStatusChanges"
        what="Status change"
        legend="States to apply (over the most specific of metric, host, service type and site named)"
        empty={EMPTY_CHANGE}
        entries={draft.changes}
        onChange={(changes) => setDraft((previous) => ({ ...previous, changes }))}
        problems={problems}
      >
        {(entry, setEntry, at, index) => (
          <>
            <Choice id={`appliedStatusChanges[${index}].state`} label="State" value={entry.state} options={STATES} onChange={setEntry("state")} problem={at("state")} />
            <FormField label="Site" name={`appliedStatusChanges[${index}].group`} value={entry.group} onChange={setEntry("group")} problem={at("group")} />
            <FormField label="Host" name={`appliedStatusChanges[${index}].endpoint`} value={entry.endpoint} onChange={setEntry("endpoint")} problem={at("endpoint")} />
            <FormField label="Service type" name={`appliedStatusChanges[${index}].service`} value={entry.service} onChange={setEntry("service")} problem={at("service")} />
            <FormField label="Metric" name={`appliedStatusChanges[${index}].metric`} value={entry.metric} onChange={setEntry("metric")} problem={at("metric")} />
            <FormField label="From (UTC)" name={`appliedStatusChanges[${index}].startTime`} type="datetime-local" value={entry.startTime} onChange={setEntry("startTime")} problem={at("startTime")} description="Empty: the recomputation's start." />
            <FormField label="Until (UTC)" name={`appliedStatusChanges[${index}].endTime`} type="datetime-local" value={entry.endTime} onChange={setEntry("endTime")} problem={at("endTime")} description="Empty: the recomputation's end." />
          </>
        )}
      </Entries>
      {unmapped && error ? <ErrorMessage error={error} /> : null}
      <div className="monitoring-form-buttons">
        <button type="submit" className="primary" disabled={created.fetching || updated.fetching}>
          {editing ? "Save the recomputation" : "Ask for the recomputation"}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function Excludes({ row }: { row: Recomputation }) {
  const parts = partsOf(row);
  return <>{parts.length ? parts.join("; ") : "—"}</>;
}

/** ARGO's workflow states, in its order; only approved, running and done ones apply. */
const STATUSES = ["pending", "approved", "rejected", "running", "done"] as const;

/** The status, and for those allowed a choice that moves it (the days are computed again). */
function StatusControl({ row }: { row: Recomputation }) {
  const [result, setStatus] = useMutation(SetRecomputationStatusMutation);
  if (!row.manageable) return <>{row.status}</>;
  return (
    <>
      <select
        aria-label={`Status of the recomputation “${row.reason}”`}
        value={row.status}
        disabled={result.fetching}
        onChange={(e) => void setStatus({ input: { id: row.id, status: e.target.value } })}
      >
        {STATUSES.map((status) => (
          <option key={status} value={status}>
            {status}
          </option>
        ))}
      </select>
      {result.error ? <ErrorMessage error={result.error} /> : null}
    </>
  );
}

function Row({ row, onEdit }: { row: Recomputation; onEdit: (row: Recomputation) => void }) {
  const [deleted, remove] = useMutation(DeleteRecomputationMutation);
  return (
    <tr>
      <th scope="row">
        <Link to={reportPath(row.report)}>{row.report}</Link>
      </th>
      <td>{periodOf(row.startTime, row.endTime)}</td>
      <td>{row.reason}</td>
      <td>{row.requesterName}</td>
      <td>
        <Excludes row={row} />
      </td>
      <td>
        <StatusControl row={row} />
      </td>
      <td>
        {row.manageable ? (
          <button type="button" onClick={() => onEdit(row)}>
            Edit<span className="visually-hidden"> the recomputation “{row.reason}”</span>
          </button>
        ) : null}
        {row.manageable ? (
          <ConfirmButton
            label={
              <>
                Delete<span className="visually-hidden"> the recomputation “{row.reason}”</span>
              </>
            }
            title="Delete this recomputation?"
            confirmLabel="Delete"
            danger
            busy={deleted.fetching}
            onConfirm={() => void remove({ input: { id: row.id } })}
          >
            The days from {periodOf(row.startTime, row.endTime)} are computed again without it.
          </ConfirmButton>
        ) : null}
        {deleted.error ? <ErrorMessage error={deleted.error} /> : null}
      </td>
    </tr>
  );
}

export default function RecomputationsPage() {
  const [params, setParams] = useSearchParams();
  const report = params.get("report");
  const [after] = useCursor();
  const [{ data: reports }] = useQuery({ query: ReportsQuery });
  const names = (reports?.monitoringProfiles.nodes ?? []).map((r) => r.name);
  const [{ data, fetching, error }] = useQuery({ query: RecomputationsQuery, variables: { report, first: PAGE_SIZE, after } });
  const [editing, setEditing] = useState<Recomputation | null>(null);
  const [done, setDone] = useState("");
  const edit = (row: Recomputation) => {
    setDone("");
    setEditing(row);
  };
  const choose = (next: string) => {
    const copy = new URLSearchParams();
    if (next) copy.set("report", next);
    setParams(copy);
  };
  return (
    <Page title="Recomputations">
      <p>
        Corrections of a report's availability and reliability over a period, as ARGO makes them: excluded sites count
        their time in it as unknown, excluded metrics as excluded, an excluded monitoring source's results are dropped,
        and a state applied overwrites what it names. Each applies when it is made; the days it touches are computed
        again.
      </p>
      <label>
        Report{" "}
        <select name="filter-report" value={report ?? ""} onChange={(e) => choose(e.target.value)}>
          <option value="">All reports</option>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <section aria-labelledby="recomputations-list">
        <h2 id="recomputations-list">{report ? `Of ${report}` : "Of every report"}</h2>
        <QueryState
          what="recomputations"
          fetching={fetching}
          error={error}
          data={data?.recomputations}
          isEmpty={(page) => page.totalCount === 0}
          empty="No recomputation."
        >
          {(page) => (
            <>
              <table>
                <caption className="visually-hidden">Recomputations, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Report</th>
                    <th scope="col">Period</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Requested by</th>
                    <th scope="col">Excludes or changes</th>
                    <th scope="col">Status</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {page.nodes.map((row) => (
                    <Row key={row.id} row={row} onEdit={edit} />
                  ))}
                </tbody>
              </table>
              <Pager page={page} what="recomputations" />
            </>
          )}
        </QueryState>
      </section>
      <section aria-labelledby="recomputations-new">
        <h2 id="recomputations-new">Ask for a recomputation</h2>
        {data && !data.viewer ? (
          <SignInNotice>Sign in to ask for a recomputation of your sites.</SignInNotice>
        ) : data && names.length ? (
          editing ? (
            <RecomputationForm
              key={editing.id}
              reports={names}
              initial={draftOf(editing)}
              editing={editing}
              onDone={(message) => {
                setEditing(null);
                setDone(message);
              }}
              onCancel={() => setEditing(null)}
            />
          ) : (
            <RecomputationForm
              reports={names}
              initial={{ ...EMPTY_RECOMPUTATION, report: report ?? names[0] ?? "" }}
              editing={null}
              onDone={setDone}
            />
          )
        ) : null}
        <p role="status">{done}</p>
      </section>
    </Page>
  );
}
