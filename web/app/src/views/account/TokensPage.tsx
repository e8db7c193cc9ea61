import { useState, type FormEvent } from "react";
import { Button, Dialog, Form, Heading, Modal, ModalOverlay } from "react-aria-components";
import { useMutation, useQuery } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { ErrorMessage, Loading } from "../../components/QueryState";
import { fieldProblems } from "../../graphql/errors";
import { graphql } from "../../gql";
import { formatTime, tokenState, utcInputToIso } from "./format";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { SignInNeeded } from "./parts";

const Tokens = graphql(`
  query AccountTokens {
    viewer {
      subject
      viewerCanCreateApiToken
      apiTokens {
        id
        name
        prefix
        createdAt
        expiresAt
        lastUsedAt
        revokedAt
        viewerCanRevoke
      }
    }
  }
`);

const CreateToken = graphql(`
  mutation AccountCreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      apiToken {
        id
        name
        prefix
        createdAt
        expiresAt
        lastUsedAt
        revokedAt
        viewerCanRevoke
      }
      secret
    }
  }
`);

const RevokeToken = graphql(`
  mutation AccountRevokeApiToken($input: RevokeApiTokenInput!) {
    revokeApiToken(input: $input) {
      apiToken {
        id
        revokedAt
        viewerCanRevoke
      }
    }
  }
`);

interface TokenRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt?: string | null;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
  viewerCanRevoke: boolean;
}

export default function TokensPage() {
  const [{ data, fetching, error }] = useQuery({ query: Tokens });
  return (
    <Page title="API tokens">
      {fetching && !data ? (
        <Loading what="your API tokens" />
      ) : error && !data ? (
        <ErrorMessage error={error} />
      ) : !data?.viewer ? (
        <SignInNeeded what="your API tokens" />
      ) : (
        <>
          <p>
            A token acts as you, with your rights, for programs that cannot sign in: send it in the{" "}
            <code>x-api-key</code> header.
          </p>
          {data.viewer.viewerCanCreateApiToken ? <CreateTokenSection /> : null}
          <TokenList tokens={data.viewer.apiTokens} />
        </>
      )}
    </Page>
  );
}

function CreateTokenSection() {
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [badExpiry, setBadExpiry] = useState(false);
  const [{ fetching, error }, create] = useMutation(CreateToken);
  // the secret lives here only, while the dialog is open: never in the cache, never again
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const problems = fieldProblems(error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const expiresAt = expires ? utcInputToIso(expires) : null;
    setBadExpiry(expires !== "" && expiresAt === null);
    if (expires !== "" && expiresAt === null) return;
    const result = await create({ input: { name, expiresAt } });
    const payload = result.data?.createApiToken;
    if (payload) {
      setCreated({ name: payload.apiToken.name, secret: payload.secret });
      setName("");
      setExpires("");
    }
  };

  return (
    <section aria-labelledby="new-token" className="account-section">
      <h2 id="new-token">New token</h2>
      <Form className="account-form" onSubmit={(event) => void submit(event)} validationBehavior="aria">
        <FormField
          label="Name"
          name="name"
          value={name}
          onChange={setName}
          problem={problems.name}
          description="What it is for, e.g. 'nagios publisher'."
          isRequired
        />
        <FormField
          label="Expires (UTC, optional)"
          name="expiresAt"
          type="datetime-local"
          value={expires}
          onChange={setExpires}
          problem={badExpiry ? { field: "expiresAt", rule: null, message: "A date and time, e.g. 2027-01-31T14:00." } : problems.expiresAt}
          description="Leave empty for a token that never expires."
        />
        <div className="account-form-buttons">
          <Button type="submit" className="react-aria-Button primary" isDisabled={fetching}>
            Create token
          </Button>
        </div>
      </Form>
      {error && !problems.name && !problems.expiresAt ? <ErrorMessage error={error} /> : null}
      <SecretDialog created={created} onClose={() => setCreated(null)} />
    </section>
  );
}

function SecretDialog({ created, onClose }: { created: { name: string; secret: string } | null; onClose: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Copying failed: select the token and copy it yourself.");
    }
  };
  const close = () => {
    setCopied(null);
    onClose();
  };
  return (
    <ModalOverlay className="app-modal-overlay" isOpen={created !== null} onOpenChange={(open) => (open ? null : close())}>
      <Modal className="app-modal">
        <Dialog className="app-dialog" aria-describedby="secret-warning">
          <Heading slot="title">Your new token “{created?.name}”</Heading>
          <p id="secret-warning" className="account-warning">
            Copy it now: this is the only time it is shown. opsgraph keeps only a hash of it and cannot show it again; if
            you lose it, revoke it and create a new one.
          </p>
          <label htmlFor="new-token-secret">Token</label>
          <input
            id="new-token-secret"
            className="account-secret"
            readOnly
            value={created?.secret ?? ""}
            onFocus={(event) => event.currentTarget.select()}
            data-testid="token-secret"
          />
          <p role="status" className="account-done">
            {copied}
          </p>
          <div className="app-dialog-buttons">
            <Button className="react-aria-Button primary" onPress={() => void copy()}>
              Copy token
            </Button>
            <Button onPress={close}>I have copied it</Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

function TokenList({ tokens }: { tokens: TokenRow[] }) {
  const [revoking, setRevoking] = useState<TokenRow | null>(null);
  const [{ fetching, error }, revoke] = useMutation(RevokeToken);
  const [done, setDone] = useState<string | null>(null);
  const confirm = async () => {
    if (!revoking) return;
    const result = await revoke({ input: { tokenId: revoking.id } });
    if (!result.error) setDone(`Token “${revoking.name}” revoked: it no longer works.`);
    setRevoking(null);
  };
  return (
    <section aria-labelledby="token-list" className="account-section">
      <h2 id="token-list">Your tokens</h2>
      <p role="status" className="account-done">
        {done}
      </p>
      {error ? <ErrorMessage error={error} /> : null}
      {tokens.length === 0 ? (
        <p className="empty">You have no API token.</p>
      ) : (
        <table aria-labelledby="token-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => {
              const state = tokenState(token);
              return (
                <tr key={token.id} data-testid="token" data-state={state} className={`account-token-${state}`}>
                  <td>{token.name}</td>
                  <td>
                    <code>{token.prefix}…</code>
                  </td>
                  <td>{formatTime(token.createdAt)}</td>
                  <td>{token.expiresAt ? formatTime(token.expiresAt) : "never"}</td>
                  <td>{token.lastUsedAt ? formatTime(token.lastUsedAt) : "never"}</td>
                  <td>
                    {state === "revoked"
                      ? `revoked ${formatTime(token.revokedAt)}`
                      : state === "expired"
                        ? "expired"
                        : "live"}
                  </td>
                  <td>
                    {state !== "revoked" && token.viewerCanRevoke ? (
                      <Button className="react-aria-Button danger" onPress={() => setRevoking(token)}>
                        Revoke<span className="visually-hidden"> token {token.name}</span>
                      </Button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        title="Revoke this token?"
        confirmLabel="Revoke token"
        isOpen={revoking !== null}
        busy={fetching}
        onCancel={() => setRevoking(null)}
        onConfirm={() => void confirm()}
      >
        <p>
          “{revoking?.name}” (<code>{revoking?.prefix}…</code>) stops working at once, for every program that uses it.
          This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
