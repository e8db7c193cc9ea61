import { useState } from "react";
import { Checkbox, Form, Label, Radio, RadioGroup } from "react-aria-components";
import { Link, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { graphql } from "../../gql";
import type { CredentialKind } from "../../gql/graphql";
import { fieldProblems } from "../../graphql/errors";
import { CREDENTIAL_KINDS, changedFields, kindLabel, usageNote } from "./credentials";
import { formatTime } from "./parts";

const CredentialsQuery = graphql(`
  query TopologySiteCredentials($shortName: String!) {
    site(shortName: $shortName) {
      id
      shortName
      viewerCanManageApiCredentials
      apiCredentials {
        ...TopologyCredentialRow
      }
    }
  }
`);

graphql(`
  fragment TopologyCredentialRow on SiteApiCredential {
    id
    identifier
    kind
    allowWrite
    ownerSubject
    ownerName
    createdAt
    lastUsedAt
    lastRenewedAt
    unusedFlaggedAt
  }
`);

const AddCredential = graphql(`
  mutation TopologyAddCredential($input: AddSiteApiCredentialInput!) {
    addSiteApiCredential(input: $input) {
      credential {
        ...TopologyCredentialRow
      }
    }
  }
`);

const UpdateCredential = graphql(`
  mutation TopologyUpdateCredential($input: UpdateSiteApiCredentialInput!) {
    updateSiteApiCredential(input: $input) {
      credential {
        ...TopologyCredentialRow
      }
    }
  }
`);

const RenewCredential = graphql(`
  mutation TopologyRenewCredential($input: RenewSiteApiCredentialInput!) {
    renewSiteApiCredential(input: $input) {
      credential {
        ...TopologyCredentialRow
      }
    }
  }
`);

const DeleteCredential = graphql(`
  mutation TopologyDeleteCredential($input: DeleteSiteApiCredentialInput!) {
    deleteSiteApiCredential(input: $input) {
      id
    }
  }
`);

interface Credential {
  id: string;
  identifier: string;
  kind: CredentialKind;
  allowWrite: boolean;
  ownerSubject: string;
  ownerName?: string | null;
  createdAt: string;
  lastUsedAt?: string | null;
  lastRenewedAt: string;
  unusedFlaggedAt?: string | null;
}

interface Values {
  identifier: string;
  kind: CredentialKind;
  allowWrite: boolean;
}

/** The fields of a credential, shared by the add and the edit form; the server's rule for a
 * field shows beside it. */
function CredentialForm({
  heading,
  id,
  initial,
  submitLabel,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  heading: string;
  id: string;
  initial: Values;
  submitLabel: string;
  busy: boolean;
  error: Parameters<typeof fieldProblems>[0];
  onSubmit: (values: Values) => void;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState(initial);
  const problems = fieldProblems(error);
  const hint = CREDENTIAL_KINDS.find((k) => k.kind === values.kind)?.hint;
  return (
    <Form
      className="topology-edit"
      aria-labelledby={id}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(values);
      }}
    >
      <h3 id={id}>{heading}</h3>
      <RadioGroup
        className="topology-kind"
        orientation="horizontal"
        value={values.kind}
        onChange={(kind) => setValues((v) => ({ ...v, kind: kind as CredentialKind }))}
      >
        <Label>Kind</Label>
        {CREDENTIAL_KINDS.map(({ kind, label }) => (
          <Radio key={kind} value={kind} className="topology-check">
            <span className="topology-check-box topology-radio" aria-hidden="true" />
            {label}
          </Radio>
        ))}
      </RadioGroup>
      <FormField
        label="Identifier"
        name="identifier"
        value={values.identifier}
        onChange={(identifier) => setValues((v) => ({ ...v, identifier }))}
        problem={problems.identifier}
        description={hint}
        isRequired
      />
      <Checkbox
        className="topology-check"
        isSelected={values.allowWrite}
        onChange={(allowWrite) => setValues((v) => ({ ...v, allowWrite }))}
      >
        <span className="topology-check-box" aria-hidden="true" />
        May write through the write API
      </Checkbox>
      <div className="topology-edit-actions">
        <button type="submit" className="primary" disabled={busy}>
          {submitLabel}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
      {error && Object.keys(problems).length === 0 ? <ErrorMessage error={error} /> : null}
    </Form>
  );
}

function AddForm({ siteId, onDone }: { siteId: string; onDone: (message: string) => void }) {
  const [result, add] = useMutation(AddCredential);
  const [generation, setGeneration] = useState(0);
  return (
    <CredentialForm
      key={generation}
      heading="Add a credential"
      id="credential-add"
      initial={{ identifier: "", kind: "X509", allowWrite: false }}
      submitLabel="Add credential"
      busy={result.fetching}
      error={result.error}
      onSubmit={(values) => {
        void add({ input: { siteId, ...values } }).then((answer) => {
          if (!answer.error) {
            setGeneration((g) => g + 1);
            onDone(`Credential ${values.identifier} added.`);
          }
        });
      }}
    />
  );
}

function CredentialRow({ credential, onDone }: { credential: Credential; onDone: (message: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [updated, update] = useMutation(UpdateCredential);
  const [renewed, renew] = useMutation(RenewCredential);
  const [deleted, remove] = useMutation(DeleteCredential);
  const owner = credential.ownerName ? `${credential.ownerName} (${credential.ownerSubject})` : credential.ownerSubject;
  return (
    <tr data-testid="credential-row">
      <td className="topology-url">{credential.identifier}</td>
      <td>{kindLabel(credential.kind)}</td>
      <td>{credential.allowWrite ? "read and write" : "read only"}</td>
      <td>{owner}</td>
      <td>
        {usageNote(
          { lastUsedAt: credential.lastUsedAt ?? null, lastRenewedAt: credential.lastRenewedAt, unusedFlaggedAt: credential.unusedFlaggedAt ?? null },
          formatTime,
        )}
      </td>
      <td>{formatTime(credential.lastRenewedAt)}</td>
      <td>
        {editing ? (
          <CredentialForm
            heading={`Edit ${credential.identifier}`}
            id={`credential-edit-${credential.id}`}
            initial={{ identifier: credential.identifier, kind: credential.kind, allowWrite: credential.allowWrite }}
            submitLabel="Save"
            busy={updated.fetching}
            error={updated.error}
            onCancel={() => setEditing(false)}
            onSubmit={(values) => {
              const changes = changedFields(credential, values);
              if (Object.keys(changes).length === 0) {
                setEditing(false);
                return;
              }
              void update({ input: { id: credential.id, ...changes } }).then((answer) => {
                if (!answer.error) {
                  setEditing(false);
                  onDone(`Credential ${values.identifier} saved; you are its owner now.`);
                }
              });
            }}
          />
        ) : (
          <div className="topology-credential-actions">
            <button type="button" onClick={() => setEditing(true)} aria-label={`Edit ${credential.identifier}`}>
              Edit
            </button>
            <ConfirmButton
              label="Renew"
              title="Renew this credential?"
              confirmLabel="Renew"
              busy={renewed.fetching}
              onConfirm={() => {
                void renew({ input: { id: credential.id } }).then((answer) => {
                  if (!answer.error) onDone(`Credential ${credential.identifier} renewed.`);
                });
              }}
            >
              <p>
                {credential.identifier} stays registered: its renewal time becomes now and you become its owner.
              </p>
            </ConfirmButton>
            <ConfirmButton
              label="Delete"
              title="Delete this credential?"
              confirmLabel="Delete"
              danger
              busy={deleted.fetching}
              onConfirm={() => {
                void remove({ input: { id: credential.id } }).then((answer) => {
                  if (!answer.error) onDone(`Credential ${credential.identifier} deleted.`);
                });
              }}
            >
              <p>Clients presenting {credential.identifier} will no longer act for this site.</p>
            </ConfirmButton>
          </div>
        )}
        {renewed.error ? <ErrorMessage error={renewed.error} /> : null}
        {deleted.error ? <ErrorMessage error={deleted.error} /> : null}
      </td>
    </tr>
  );
}

export default function CredentialsPage() {
  const { shortName = "" } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: CredentialsQuery, variables: { shortName } });
  const [done, setDone] = useState<string | null>(null);
  const site = data?.site;
  return (
    <Page title={`API credentials of ${site?.shortName ?? shortName}`}>
      <QueryState what={`site ${shortName}`} fetching={fetching} error={error} data={site}>
        {(site) => (
          <div className="topology-credentials">
            <p>
              <Link to={`/sites/${encodeURIComponent(site.shortName)}`}>Back to {site.shortName}</Link>
            </p>
            <p>
              Clients that present one of these identifiers (a certificate's DN, or an OIDC token's subject) act for
              this site through the GOCDB-compatible interface: they read what needs a registered credential, and
              write through the write API when they may write.
            </p>
            {!site.viewerCanManageApiCredentials ? (
              <p className="empty" data-testid="credentials-not-allowed">
                A site's API credentials show to those who may edit the site.
              </p>
            ) : (
              <>
                <p role="status">{done}</p>
                {site.apiCredentials.length === 0 ? (
                  <p className="empty">No API credentials registered.</p>
                ) : (
                  <table className="topology-credentials-table">
                    <caption className="visually-hidden">API credentials of this site, oldest first</caption>
                    <thead>
                      <tr>
                        <th scope="col">Identifier</th>
                        <th scope="col">Kind</th>
                        <th scope="col">Access</th>
                        <th scope="col">Owner</th>
                        <th scope="col">Use</th>
                        <th scope="col">Renewed</th>
                        <th scope="col">Actions</th>
                      </tr>
                    </thead>
                    <tbody>
                      {site.apiCredentials.map((credential) => (
                        <CredentialRow key={credential.id} credential={credential} onDone={setDone} />
                      ))}
                    </tbody>
                  </table>
                )}
                <AddForm siteId={site.id} onDone={setDone} />
              </>
            )}
          </div>
        )}
      </QueryState>
    </Page>
  );
}
