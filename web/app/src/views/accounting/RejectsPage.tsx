import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { Page } from "../../components/Page";
import { PAGE_SIZE, Pager, useCursor } from "../../components/Pager";
import { ErrorMessage, Loading, QueryState } from "../../components/QueryState";
import { SignInNotice } from "../../components/SignInNotice";
import {
  AccountingRejectsQuery,
  AccountingViewerQuery,
  DeleteAccountingRejectsMutation,
  ReloadAccountingRejectMutation,
} from "./operations";

/** The reject store (platform administrators): the messages refused whole, newest first, each
 * loaded again (its records, if the rule now passes) or deleted after a confirmation. */
function Rejects() {
  const [after] = useCursor();
  const [{ data, fetching, error }, refetch] = useQuery({ query: AccountingRejectsQuery, variables: { first: PAGE_SIZE, after } });
  const [reloading, reload] = useMutation(ReloadAccountingRejectMutation);
  const [deleting, remove] = useMutation(DeleteAccountingRejectsMutation);
  const [failure, setFailure] = useState<CombinedError | undefined>(undefined);
  const [said, setSaid] = useState("");
  const again = () => refetch({ requestPolicy: "network-only" });
  return (
    <>
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
        empty="No rejected messages: every message received was loaded."
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
