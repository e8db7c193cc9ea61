import { useState, type FormEvent } from "react";
import { Button, Form, Key, Label, ListBox, ListBoxItem, Popover, Select, SelectValue } from "react-aria-components";
import { Link } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { Page } from "../../components/Page";
import { Pager, PAGE_SIZE, useCursor } from "../../components/Pager";
import { ErrorMessage, Loading, QueryState } from "../../components/QueryState";
import { fieldProblems } from "../../graphql/errors";
import { graphql } from "../../gql";
import { ENTITY_KINDS, kindLabel, roleTypesByKind, type EntityKind } from "./format";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { EntityPicker, SignInNeeded } from "./parts";

const MyRoles = graphql(`
  query AccountMyRoles {
    viewer {
      subject
      viewerCanRequestRole
      roles {
        id
        roleType
        entityType
        entityName
        entityId
        status
        userSubject
        viewerCanRevoke
      }
    }
  }
`);

const PendingRoles = graphql(`
  query AccountPendingRoles($first: Int, $after: String) {
    pendingRoles(first: $first, after: $after) {
      nodes {
        id
        roleType
        entityType
        entityName
        entityId
        status
        userSubject
        viewerCanGrant
        viewerCanReject
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
`);

const RequestRole = graphql(`
  mutation AccountRequestRole($input: RequestRoleInput!) {
    requestRole(input: $input) {
      role {
        id
        roleType
        entityType
        entityName
        status
        viewerCanRevoke
      }
    }
  }
`);

const RoleTypes = graphql(`
  query AccountRoleTypes {
    roleTypes(first: 100) {
      nodes {
        name
        entityKind
      }
    }
  }
`);

/** What a decision (grant, reject, revoke) answers of the role: its new status and what the
 * viewer may still do with it, which the cache then shows in both lists. */
graphql(`
  fragment AccountDecidedRole on Role {
    id
    roleType
    entityName
    status
    userSubject
    viewerCanGrant
    viewerCanReject
    viewerCanRevoke
  }
`);

const GrantRole = graphql(`
  mutation AccountGrantRole($input: GrantRoleInput!) {
    grantRole(input: $input) {
      role {
        ...AccountDecidedRole
      }
    }
  }
`);

const RejectRole = graphql(`
  mutation AccountRejectRole($input: RejectRoleInput!) {
    rejectRole(input: $input) {
      role {
        ...AccountDecidedRole
      }
    }
  }
`);

const RevokeRole = graphql(`
  mutation AccountRevokeRole($input: RevokeRoleInput!) {
    revokeRole(input: $input) {
      role {
        ...AccountDecidedRole
      }
    }
  }
`);

interface RoleRow {
  id: string;
  roleType: string;
  entityType: string;
  entityName: string;
  status: string;
  userSubject?: string | null;
  viewerCanGrant?: boolean;
  viewerCanReject?: boolean;
  viewerCanRevoke?: boolean;
}

// the views of the things roles are held over, by name (topology's routes)
const PAGES: Record<string, string> = { site: "/sites", ngi: "/ngis" };

function Over({ role }: { role: RoleRow }) {
  const kind = kindLabel(role.entityType);
  const page = PAGES[role.entityType];
  if (page) {
    return (
      <>
        {kind} <Link to={`${page}/${encodeURIComponent(role.entityName)}`}>{role.entityName}</Link>
      </>
    );
  }
  return (
    <>
      {kind} {role.entityName}
    </>
  );
}

function Status({ status }: { status: string }) {
  return <span className={`account-status account-status-${status}`}>{status.toLowerCase()}</span>;
}

export default function RolesPage() {
  const [{ data, fetching, error }] = useQuery({ query: MyRoles });
  return (
    <Page title="Roles">
      {fetching && !data ? (
        <Loading what="your roles" />
      ) : error && !data ? (
        <ErrorMessage error={error} />
      ) : !data?.viewer ? (
        <SignInNeeded what="your roles and the requests you may decide" />
      ) : (
        <>
          <MyRolesSection roles={data.viewer.roles} />
          {data.viewer.viewerCanRequestRole ? <RequestRoleSection /> : null}
          <PendingSection />
        </>
      )}
    </Page>
  );
}

function MyRolesSection({ roles }: { roles: RoleRow[] }) {
  const [revoking, setRevoking] = useState<RoleRow | null>(null);
  const [{ fetching, error }, revoke] = useMutation(RevokeRole);
  const [done, setDone] = useState<string | null>(null);
  const [failed, setFailed] = useState<CombinedError | null>(null);
  const confirm = async () => {
    if (!revoking) return;
    const result = await revoke({ input: { roleId: revoking.id } });
    if (result.error) setFailed(result.error);
    else {
      setFailed(null);
      setDone(`You gave up ${revoking.roleType} over ${revoking.entityName}.`);
    }
    setRevoking(null);
  };
  return (
    <section aria-labelledby="my-roles" className="account-section">
      <h2 id="my-roles">My roles</h2>
      <p role="status" className="account-done">
        {done}
      </p>
      {failed ?? error ? <ErrorMessage error={(failed ?? error)!} /> : null}
      {roles.length === 0 ? (
        <p className="empty">You hold no role and have requested none.</p>
      ) : (
        <table aria-labelledby="my-roles">
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Over</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {roles.map((role) => (
              <tr key={role.id} data-testid="my-role">
                <td>{role.roleType}</td>
                <td>
                  <Over role={role} />
                </td>
                <td>
                  <Status status={role.status} />
                </td>
                <td>
                  {role.status === "GRANTED" && role.viewerCanRevoke ? (
                    <Button className="react-aria-Button danger" onPress={() => setRevoking(role)}>
                      Revoke<span className="visually-hidden"> {role.roleType} over {role.entityName}</span>
                    </Button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        title="Revoke this role?"
        confirmLabel="Revoke role"
        isOpen={revoking !== null}
        busy={fetching}
        onCancel={() => setRevoking(null)}
        onConfirm={() => void confirm()}
      >
        <p>
          You give up <strong>{revoking?.roleType}</strong> over {revoking?.entityName}. Holding it again takes a new
          request and someone's approval.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function RequestRoleSection() {
  const [kind, setKind] = useState<EntityKind>("site");
  const [entityId, setEntityId] = useState<string | null>(null);
  const [picked, setRoleType] = useState<string | null>(null);
  const [types] = useQuery({ query: RoleTypes });
  const offered = types.data ? roleTypesByKind(types.data.roleTypes.nodes)[kind] : [];
  const roleType = picked !== null && offered.includes(picked) ? picked : (offered[0] ?? "");
  const [{ fetching, error }, request] = useMutation(RequestRole);
  const [done, setDone] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const problems = fieldProblems(error);

  const chooseKind = (key: Key | null) => {
    const next = (key ?? "site") as EntityKind;
    setKind(next);
    setEntityId(null);
    setRoleType(null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    if (!entityId) {
      setMissing(true);
      return;
    }
    setMissing(false);
    const result = await request({ input: { roleType, entityId } });
    const role = result.data?.requestRole.role;
    if (role) setDone(`Requested ${role.roleType} over ${role.entityName}: it waits for a decision.`);
  };

  const entityProblem =
    problems.entityId ?? (missing ? { field: "entityId", rule: null, message: `Choose a ${kindLabel(kind).toLowerCase()}.` } : undefined);
  const otherErrors = error && !problems.entityId && !problems.roleType;

  return (
    <section aria-labelledby="request-role" className="account-section">
      <h2 id="request-role">Request a role</h2>
      <Form className="account-form" onSubmit={(event) => void submit(event)} validationBehavior="aria">
        <Select className="account-select" selectedKey={kind} onSelectionChange={chooseKind} name="entityType">
          <Label>Over a</Label>
          <Button>
            <SelectValue />
            <span aria-hidden="true"> ▾</span>
          </Button>
          <Popover>
            <ListBox>
              {ENTITY_KINDS.map((k) => (
                <ListBoxItem key={k.id} id={k.id}>
                  {k.label}
                </ListBoxItem>
              ))}
            </ListBox>
          </Popover>
        </Select>
        <EntityPicker
          kind={kind}
          label={kindLabel(kind)}
          name="entityId"
          selected={entityId}
          onChange={(id) => {
            setEntityId(id);
            if (id) setMissing(false);
          }}
          problem={entityProblem}
        />
        {types.error ? <ErrorMessage error={types.error} /> : null}
        {types.fetching && !types.data ? <Loading what="role types" /> : null}
        <Select
          className="account-select"
          selectedKey={roleType || null}
          onSelectionChange={(key) => setRoleType(String(key))}
          name="roleType"
          isInvalid={problems.roleType !== undefined}
        >
          <Label>Role</Label>
          <Button>
            <SelectValue />
            <span aria-hidden="true"> ▾</span>
          </Button>
          <Popover>
            <ListBox>
              {offered.map((type) => (
                <ListBoxItem key={type} id={type}>
                  {type}
                </ListBoxItem>
              ))}
            </ListBox>
          </Popover>
          {problems.roleType ? (
            <p className="field-error" data-rule={problems.roleType.rule ?? undefined}>
              {problems.roleType.message}
            </p>
          ) : null}
        </Select>
        <div className="account-form-buttons">
          <Button type="submit" className="react-aria-Button primary" isDisabled={fetching || !roleType}>
            Request role
          </Button>
        </div>
      </Form>
      <p role="status" className="account-done">
        {done}
      </p>
      {otherErrors ? <ErrorMessage error={error} /> : null}
    </section>
  );
}

function PendingSection() {
  const [after] = useCursor();
  const [{ data, fetching, error }] = useQuery({ query: PendingRoles, variables: { first: PAGE_SIZE, after } });
  const [grantState, grant] = useMutation(GrantRole);
  const [rejectState, reject] = useMutation(RejectRole);
  const [done, setDone] = useState<string | null>(null);
  const failed = grantState.error ?? rejectState.error;
  const busy = grantState.fetching || rejectState.fetching;

  const decide = async (role: RoleRow, verb: "grant" | "reject") => {
    setDone(null);
    const result = verb === "grant" ? await grant({ input: { roleId: role.id } }) : await reject({ input: { roleId: role.id } });
    if (!result.error) {
      setDone(`${verb === "grant" ? "Granted" : "Rejected"}: ${role.roleType} over ${role.entityName} for ${role.userSubject ?? "?"}.`);
    }
  };

  return (
    <section aria-labelledby="pending-roles" className="account-section">
      <h2 id="pending-roles">Requests waiting for your decision</h2>
      <p role="status" className="account-done">
        {done}
      </p>
      {failed ? <ErrorMessage error={failed} /> : null}
      <QueryState
        what="pending requests"
        fetching={fetching}
        error={error}
        data={data?.pendingRoles}
        isEmpty={(page) => page.nodes.length === 0}
        empty="No role request waits for your decision."
      >
        {(page) => (
          <>
            <table aria-labelledby="pending-roles">
              <thead>
                <tr>
                  <th scope="col">Requested by</th>
                  <th scope="col">Role</th>
                  <th scope="col">Over</th>
                  <th scope="col">Decision</th>
                </tr>
              </thead>
              <tbody>
                {page.nodes.map((role) => (
                  <tr key={role.id} data-testid="pending-role">
                    <td>{role.userSubject}</td>
                    <td>{role.roleType}</td>
                    <td>
                      <Over role={role} />
                    </td>
                    <td>
                      <div className="account-actions">
                        {role.viewerCanGrant ? (
                          <Button className="react-aria-Button primary" isDisabled={busy} onPress={() => void decide(role, "grant")}>
                            Grant<span className="visually-hidden"> {role.roleType} over {role.entityName} to {role.userSubject}</span>
                          </Button>
                        ) : null}
                        {role.viewerCanReject ? (
                          <Button className="react-aria-Button danger" isDisabled={busy} onPress={() => void decide(role, "reject")}>
                            Reject<span className="visually-hidden"> {role.roleType} over {role.entityName} for {role.userSubject}</span>
                          </Button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={page} what="pending requests" />
          </>
        )}
      </QueryState>
    </section>
  );
}
