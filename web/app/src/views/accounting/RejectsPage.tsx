import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { Page } from "../../components/Page";
import { PAGE_SIZE, Pager, useCursor } from "../../components/Pager";
import { ErrorMessage, Loading, QueryState } from "../../components/QueryState";
import { SignInNotice } from "../../components/SignInNotice";
import type { AccountingRejectFilter } from "../../gql/graphql";
import { utcInputToIso } from "../account/format";
import {
  AccountingRejectsQuery,
  AccountingViewerQuery,
  DeleteAccountingRejectsMatchingMutation,
  DeleteAccountingRejectsMutation,
  ReloadAccountingRejectMutation,
} from "./operations";

/** The list's filter as the URL keeps it (the times as `datetime-local` values, in UTC). */
const FILTER_FIELDS = ["sender", "rule", "receivedAfter", "receivedBefore"] as const;
type FilterForm = Record<(typeof FILTER_FIELDS)[number], string>;

function readFilter(params: URLSearchParams): FilterForm {
  return Object.fromEntries(FILTER_FIELDS.map((name) => [name, params.get(name) ?? ""])) as FilterForm;
}

/** The API's filter: only the criteria given (none: every reject). */
export function rejectFilter(form: FilterForm): AccountingRejectFilter {
  const filter: AccountingRejectFilter = {};
  if (form.sender.trim()) filter.sender = form.sender.trim();
  if (form.rule.trim()) filter.rule = form.rule.trim();
  const after = utcInputToIso(form.receivedAfter);
  if (after) filter.receivedAfter = after;
  const before = utcInputToIso(form.receivedBefore);
  if (before) filter.receivedBefore = before;
  return filter;
}

/** Which rejects to list (and to delete all at once): kept in the URL, the first page again
 * on each change. */
function Filter({ form, onApply }: { form: FilterForm; onApply: (next: FilterForm) => void }) {
  const [draft, setDraft] = useState(form);
  const set = (patch: Partial<FilterForm>) => setDraft({ ...draft, ...patch });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  const empty = Object.fromEntries(FILTER_FIELDS.map((name) => [name, ""])) as FilterForm;
  return (
    <form className="ar-filters" onSubmit={submit} aria-label="Rejects to list">
      <label>
        Sender (exactly) <input name="sender" value={draft.sender} onChange={(e) => set({ sender: e.target.value })} />
      </label>
      <label>
        Rule <input name="rule" value={draft.rule} onChange={(e) => set({ rule: e.target.value })} placeholder="ACCOUNTING_…" />
      </label>
      <label>
        Received from (UTC){" "}
        <input type="datetime-local" name="receivedAfter" value={draft.receivedAfter} onChange={(e) => set({ receivedAfter: e.target.value })} />
      </label>
      <label>
        Received before (UTC){" "}
        <input type="datetime-local" name="receivedBefore" value={draft.receivedBefore} onChange={(e) => set({ receivedBefore: e.target.value })} />
      </label>
      <button type="submit" className="primary">
        Filter
      </button>{" "}
      <button
        type="button"
        onClick={() => {
          setDraft(empty);
          onApply(empty);
        }}
      >
        Clear
      </button>
    </form>
  );
}

/** The reject store (platform administrators): the messages refused whole, newest first, each
 * loaded again (its records, if the rule now passes) or deleted after a confirmation. */
function Rejects() {
  const [after] = useCursor();
  const [params, setParams] = useSearchParams();
  const form = readFilter(params);
  const filter = rejectFilter(form);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: AccountingRejectsQuery,
    variables: { filter, first: PAGE_SIZE, after },
  });
  const [reloading, reload] = useMutation(ReloadAccountingRejectMutation);
  const [deleting, remove] = useMutation(DeleteAccountingRejectsMutation);
  const [deletingAll, removeAll] = useMutation(DeleteAccountingRejectsMatchingMutation);
  const [failure, setFailure] = useState<CombinedError | undefined>(undefined);
  const [said, setSaid] = useState("");
  const again = () => refetch({ requestPolicy: "network-only" });
  const apply = (next: FilterForm) => {
    const copy = new URLSearchParams();
    for (const name of FILTER_FIELDS) if (next[name].trim()) copy.set(name, next[name].trim());
    setParams(copy);
  };
  const filtered = Object.keys(filter).length > 0;
  const matching = data?.accountingRejects.totalCount ?? 0;
  return (
    <>
      <Filter key={params.toString()} form={form} onApply={apply} />
      {data && matching > 0 ? (
        <p>
          <ConfirmButton
            label={filtered ? `Delete all ${matching} matching` : `Delete all ${matching}`}
            danger
            busy={deletingAll.fetching}
            title={`Delete the ${matching} rejected ${matching === 1 ? "message" : "messages"} ${filtered ? "matching the filter" : "(no filter given)"}?`}
            confirmLabel="Delete them"
            onConfirm={() => {
              void removeAll({ input: { filter } }).then((answer) => {
                setFailure(answer.error);
                const gone = answer.data?.deleteAccountingRejectsMatching;
                if (gone) {
                  setSaid(`Deleted ${gone.count} rejected ${gone.count === 1 ? "message" : "messages"}.`);
                  again();
                }
              });
            }}
          >
            Every rejected message the filter matches, on every page, is deleted at once; their records are lost unless
            the senders send them again. Each deletion is audited.
          </ConfirmButton>
        </p>
      ) : null}
      <p aria-live="polite" className="notice" hidden={!said}>
        {said}
      </p>
      {failure ? <ErrorMessage error={failure} /> : null}
      <QueryState
        what="rejected messages"
        fetching={fetching}
        error={error}
        data={data?.accountingRejects}
        isEmpty={(page) => page.totalCount === 0}
        empty={filtered ? "No rejected message matches the filter." : "No rejected messages: every message received was loaded."}
      >
        {(page) => (
          <>
            <table className="ar-table" data-testid="accounting-rejects">
              <caption>Messages refused whole, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Received (UTC)</th>
                  <th scope="col">Sender</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Size</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {page.nodes.map((row) => (
                  <tr key={row.id}>
                    <td>{row.receivedAt.replace("T", " ").slice(0, 19)}</td>
                    <td>
                      {row.sender || "(unknown)"}
                      <br />
                      <small>
                        {row.source} · {row.messageId}
                        {row.signed ? " · signed" : ""}
                      </small>
                    </td>
                    <td>
                      <code>{row.rule}</code>
                      {row.field ? <> ({row.field})</> : null}
                    </td>
                    <td>{row.reason}</td>
                    <td>{row.size} B</td>
                    <td>
                      <button
                        type="button"
                        disabled={reloading.fetching}
                        onClick={async () => {
                          const answer = await reload({ input: { id: row.id } });
                          setFailure(answer.error);
                          const result = answer.data?.reloadAccountingReject;
                          if (result) {
                            setSaid(
                              result.loaded
                                ? `Loaded ${result.records} records of ${row.messageId}.`
                                : `${row.messageId} was refused again: ${result.reject?.rule ?? ""} ${result.reject?.reason ?? ""}`,
                            );
                            again();
                          }
                        }}
                      >
                        Load again
                      </button>{" "}
                      <ConfirmButton
                        label="Delete"
                        danger
                        busy={deleting.fetching}
                        title={`Delete the rejected message ${row.messageId}?`}
                        confirmLabel="Delete"
                        onConfirm={() => {
                          void remove({ input: { ids: [row.id] } }).then((answer) => {
                            setFailure(answer.error);
                            if (!answer.error) {
                              setSaid(`Deleted ${row.messageId}.`);
                              again();
                            }
                          });
                        }}
                      >
                        Its records are lost unless the sender sends them again. The deletion is audited.
                      </ConfirmButton>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={page} what="rejected messages" />
          </>
        )}
      </QueryState>
    </>
  );
}

export default function RejectsPage() {
  const [{ data, fetching }] = useQuery({ query: AccountingViewerQuery });
  const viewer = data?.viewer;
  return (
    <Page title="Accounting rejects">
      <p>
        APEL messages the intake refused whole (a bad record, an unknown signer, a site the sender may not send for), kept
        for the platform's administrators to load again once the cause is fixed, or to delete.{" "}
        <Link to="/usage">Back to the accounting views</Link>.
      </p>
      {fetching && !data ? (
        <Loading what="your rights" />
      ) : !viewer ? (
        <SignInNotice>Platform administrators see the rejected messages here.</SignInNotice>
      ) : !viewer.isAdmin ? (
        <p className="notice" role="status" data-testid="rejects-refused">
          Only the platform's administrators may see the rejected messages.
        </p>
      ) : (
        <Rejects />
      )}
    </Page>
  );
}
