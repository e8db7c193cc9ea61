// Pieces the messaging pages share: the refusals in words (signed out; not a member or no
// such thing), links between the pages, and small read-only blocks.
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { CombinedError } from "urql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { SignInNotice } from "../../components/SignInNotice";
import { codeOf } from "../../graphql/errors";

export const projectPath = (project: string) => `/messaging/${encodeURIComponent(project)}`;
export const topicPath = (project: string, topic: string) =>
  `${projectPath(project)}/topics/${encodeURIComponent(topic)}`;
export const subscriptionPath = (project: string, subscription: string) =>
  `${projectPath(project)}/subscriptions/${encodeURIComponent(subscription)}`;

/** The messaging API answers only signed-in callers, and only members of a project (those
 * in the ACL, for topics and subscriptions): say which refusal this is before the details. */
export function Refusal({ error, what }: { error: CombinedError; what: string }) {
  const code = codeOf(error);
  if (code === "UNAUTHENTICATED") {
    return (
      <SignInNotice role="alert" className="messaging-refusal" code={code}>
        Sign in to use the messaging console: {what} are shown only to signed-in members of a project.
      </SignInNotice>
    );
  }
  if (code === "FORBIDDEN" || code === "NOT_FOUND") {
    return (
      <div className="messaging-refusal" role="alert" data-code={code}>
        <p>
          You are not allowed to see this, or it does not exist: {what} are shown only to the members of a
          project allowed to use them.
        </p>
        <ErrorMessage error={error} />
        <p>
          <Link to="/messaging">Back to your messaging projects</Link>
        </p>
      </div>
    );
  }
  return <ErrorMessage error={error} />;
}

/** QueryState, with the messaging API's refusals in words. */
export function MessagingState<T>({
  fetching,
  error,
  data,
  what,
  isEmpty,
  empty,
  children,
}: {
  fetching: boolean;
  error?: CombinedError;
  data: T | undefined | null;
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (error && !data) return <Refusal error={error} what={what} />;
  return (
    <QueryState fetching={fetching} error={error} data={data} what={what} isEmpty={isEmpty} empty={empty}>
      {children}
    </QueryState>
  );
}

export function Crumbs({ project, here }: { project?: string; here?: string }) {
  return (
    <nav aria-label="Breadcrumbs" className="messaging-crumbs">
      <ol>
        <li>
          <Link to="/messaging">Messaging</Link>
        </li>
        {project !== undefined ? (
          <li>
            {here === undefined ? (
              <span aria-current="page">{project}</span>
            ) : (
              <Link to={projectPath(project)}>{project}</Link>
            )}
          </li>
        ) : null}
        {here !== undefined ? (
          <li>
            <span aria-current="page">{here}</span>
          </li>
        ) : null}
      </ol>
    </nav>
  );
}

/** A definition list of label -> value, values rendered as given ("—" for null). */
export function Facts({ items, label }: { items: [string, ReactNode][]; label?: string }) {
  return (
    <dl className="details" aria-label={label}>
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value === null || value === undefined || value === "" ? "—" : value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <>—</>;
  return <time dateTime={at}>{new Date(at).toLocaleString("en-GB", { timeZone: "UTC" })} UTC</time>;
}

/** A delete button that asks first: "Delete …" opens the question, "Yes, delete …" deletes. */
export function DeleteButton({
  what,
  busy,
  onConfirm,
}: {
  what: string;
  busy: boolean;
  onConfirm: () => void;
}) {
  return (
    <ConfirmButton
      label={`Delete ${what}`}
      title={`Delete ${what}?`}
      confirmLabel={`Yes, delete ${what}`}
      danger
      busy={busy}
      onConfirm={onConfirm}
    >
      <p>This cannot be undone.</p>
    </ConfirmButton>
  );
}
