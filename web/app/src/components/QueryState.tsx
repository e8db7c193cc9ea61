import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import { codeOf, describeError } from "../graphql/errors";

/** Loading, error and empty states for a query, the same in every view. */
export function QueryState<T>({
  fetching,
  error,
  data,
  isEmpty,
  empty,
  children,
  what,
}: {
  fetching: boolean;
  error?: CombinedError;
  data: T | undefined | null;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (error && !data) return <ErrorMessage error={error} />;
  if (data === undefined || data === null) {
    if (fetching) return <Loading what={what} />;
    return <p className="empty">No {what} found.</p>;
  }
  if (isEmpty?.(data)) return <p className="empty">{empty ?? `No ${what}.`}</p>;
  return <>{children(data)}</>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="loading">
      Loading {what}…
    </p>
  );
}

export function ErrorMessage({ error }: { error: CombinedError }) {
  return (
    <div role="alert" className="error" data-code={codeOf(error) ?? (error.networkError ? "NETWORK" : "")}>
      {describeError(error).map((line, index) => (
        <p key={index}>{line}</p>
      ))}
    </div>
  );
}
