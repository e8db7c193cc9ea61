// Recomputations (ARGO's corrections of a report's availability): every one, a page at a
// time, of one report or all; signed-in users may ask for one (the server decides over which
// sites: their sites' or NGIs', everywhere for platform administrators), and move through
// ARGO's workflow or delete (after a confirmation) those their `manageable` allows.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { PAGE_SIZE, Pager, useCursor } from "../../components/Pager";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { SignInNotice } from "../../components/SignInNotice";
import type { MonitoringRecomputationsQuery } from "../../gql/graphql";
import { fieldProblems } from "../../graphql/errors";
import {
  CreateRecomputationMutation,
  DeleteRecomputationMutation,
  RecomputationsQuery,
  ReportsQuery,
  SetRecomputationStatusMutation,
} from "./operations";
import { reportPath } from "./paths";
import { EMPTY_RECOMPUTATION, periodOf, recomputationInput, type RecomputationDraft } from "./recomputations";

type Recomputation = MonitoringRecomputationsQuery["recomputations"]["nodes"][number];

const KNOWN = new Set(["report", "reason", "requesterName", "requesterEmail", "startTime", "endTime", "exclude"]);

function CreateForm({ reports, report }: { reports: string[]; report: string | null }) {
  const [draft, setDraft] = useState<RecomputationDraft>({ ...EMPTY_RECOMPUTATION, report: report ?? reports[0] ?? "" });
  const [result, create] = useMutation(CreateRecomputationMutation);
  const [error, setError] = useState<CombinedError | undefined>(undefined);
  const [done, setDone] = useState("");
  const problems = fieldProblems(error);
  const unmapped =
    error && (error.networkError || error.graphQLErrors.some((e) => !KNOWN.has(String(e.extensions?.field ?? "").replace(/^input\./, ""))));
  const set = (key: keyof RecomputationDraft) => (value: string) => setDraft((previous) => ({ ...previous, [key]: value }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone("");
    const answer = await create({ input: recomputationInput(draft) });
    setError(answer.error);
    if (!answer.error) {
      setDone(`Recomputation of ${draft.report} made: the days it touches are computed again.`);
      setDraft({ ...EMPTY_RECOMPUTATION, report: draft.report });
    }
  };
  return (
    <form className="monitoring-rule-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Ask for a recomputation">
      <label htmlFor="recomputation-report">Report</label>
      <select id="recomputation-report" name="report" value={draft.report} onChange={(e) => set("report")(e.target.value)}>
        {reports.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      {problems.report ? (
        <p className="field-error" data-rule={problems.report.rule ?? undefined} role="alert">
          {problems.report.message}
        </p>
      ) : null}
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
        problem={problems.exclude}
        description="Short names, comma-separated: their time in the period counts as unknown. Metric and monitoring-source exclusions and status changes: through the API."
      />
      {unmapped && error ? <ErrorMessage error={error} /> : null}
      <div className="monitoring-form-buttons">
        <button type="submit" className="primary" disabled={result.fetching}>
          Ask for the recomputation
        </button>
      </div>
      <p role="status">{done}</p>
    </form>
  );
}

function Excludes({ row }: { row: Recomputation }) {
  const parts = [
    ...row.exclude.map((site) => `site ${site}`),
    ...row.excludeMetrics.map((m) => `${m.metric}${m.hostname ? ` on ${m.hostname}` : ""}${m.group ? ` at ${m.group}` : ""}`),
  ];
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

function Row({ row }: { row: Recomputation }) {
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
  const choose = (next: string) => {
    const copy = new URLSearchParams();
    if (next) copy.set("report", next);
    setParams(copy);
  };
  return (
    <Page title="Recomputations">
      <p>
        Corrections of a report's availability and reliability over a period, as ARGO makes them: excluded sites count
        their time in it as unknown. Each applies when it is made; the days it touches are computed again.
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
                    <th scope="col">Excludes</th>
                    <th scope="col">Status</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {page.nodes.map((row) => (
                    <Row key={row.id} row={row} />
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
          <CreateForm reports={names} report={report} />
        ) : null}
      </section>
    </Page>
  );
}
