// What went wrong, in words: network failures and the API's `extensions.code`, and for
// BAD_USER_INPUT the field it names, so forms can show the rule beside the field.
import type { CombinedError } from "urql";

export interface FieldProblem {
  /** The input field the server named (e.g. "input.startDate"), as sent. */
  field: string;
  /** The stable rule code (README "Error codes"), kept for tests and `data-rule`. */
  rule: string | null;
  message: string;
}

const IN_WORDS: Record<string, string> = {
  UNAUTHENTICATED: "You need to sign in to do this.",
  FORBIDDEN: "You are not allowed to do this.",
  NOT_FOUND: "Not found.",
  CONFLICT: "This conflicts with the current state; reload and try again.",
  RATE_LIMITED: "Too many requests; wait a moment and try again.",
  BAD_USER_INPUT: "Some input was not accepted.",
  INTERNAL: "The server failed to answer this request.",
};

export function codeOf(error: CombinedError | undefined): string | null {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === "string" ? code : null;
}

/** One sentence per problem: what the code means, then the server's own message. */
export function describeError(error: CombinedError): string[] {
  if (error.networkError) {
    return [`The server could not be reached (${error.networkError.message}). Check your connection and try again.`];
  }
  return error.graphQLErrors.map((problem) => {
    const code = typeof problem.extensions?.code === "string" ? problem.extensions.code : null;
    const words = code ? (IN_WORDS[code] ?? `Error ${code}.`) : "The request failed.";
    const field = typeof problem.extensions?.field === "string" ? ` (${problem.extensions.field})` : "";
    return problem.message ? `${words} ${problem.message}${field}` : words;
  });
}

/** BAD_USER_INPUT problems by field name, the `input.` prefix removed ("startDate"); a
 * message that begins with the field's name loses it ("input.endsAt: the end must be after
 * the start" beside the End field says "the end must be after the start"). */
export function fieldProblems(error: CombinedError | undefined): Record<string, FieldProblem> {
  const found: Record<string, FieldProblem> = {};
  for (const problem of error?.graphQLErrors ?? []) {
    const field = problem.extensions?.field;
    if (problem.extensions?.code !== "BAD_USER_INPUT" || typeof field !== "string") continue;
    const rule = typeof problem.extensions.rule === "string" ? problem.extensions.rule : null;
    const prefix = `${field}: `;
    const message = problem.message.startsWith(prefix) ? problem.message.slice(prefix.length) : problem.message;
    found[field.replace(/^input\./, "")] = { field, rule, message };
  }
  return found;
}
