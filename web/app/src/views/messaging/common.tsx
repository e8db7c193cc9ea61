// Pieces the messaging pages share: the refusals in words (signed out; not a member or no
// such thing), links between the pages, and small read-only blocks.
import { useState, type ReactNode } from "react";
import { Button } from "react-aria-components";
import { Link } from "react-router";
import type { CombinedError } from "urql";
import { ErrorMessage, QueryState } from "../../components/QueryState";
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
      <div className="messaging-refusal" role="alert" data-code={code}>
        <p>Sign in to use the messaging console: {what} are shown only to signed-in members of a project.</p>
      </div>
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
    <dl className="messaging-facts" aria-label={label}>
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

/** A delete button that asks first: "Delete …" shows the question with confirm and cancel. */
export function DeleteButton({
  what,
  busy,
  onConfirm,
}: {
  what: string;
  busy: boolean;
  onConfirm: () => void;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <Button className="react-aria-Button danger" onPress={() => setAsking(true)}>
        Delete {what}
      </Button>
    );
  }
  return (
    <div className="messaging-confirm" role="group" aria-label={`Delete ${what}?`}>
      <span>Delete {what}? This cannot be undone.</span>
      <Button className="react-aria-Button danger" isDisabled={busy} onPress={onConfirm} autoFocus>
        Yes, delete {what}
      </Button>
      <Button onPress={() => setAsking(false)}>Cancel</Button>
    </div>
  );
}
