import { Client, fetchExchange } from "urql";

export interface Asked {
  operation: string;
  variables: Record<string, unknown>;
}

/** What `answer` returns for a request the server refuses: its GraphQL errors, no data. */
export class Refused {
  constructor(readonly errors: { message: string; extensions: Record<string, unknown> }[]) {}
}

/** A real urql client whose server is `answer`: it gets each operation's name and variables
 * and returns the `data` to send back (or a `Refused`); every request is recorded in `asked`.
 * A subscription is sent the same way and hears that one answer. */
export function fakeClient(answer: (operation: string, variables: Record<string, unknown>) => unknown, asked: Asked[] = []) {
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as { operationName: string; variables?: Record<string, unknown> };
    const variables = body.variables ?? {};
    asked.push({ operation: body.operationName, variables });
    const data = answer(body.operationName, variables);
    const payload = data instanceof Refused ? { data: null, errors: data.errors } : { data };
    return new Response(JSON.stringify(payload), { headers: { "content-type": "application/json" } });
  };
  return new Client({ url: "http://test/graphql", exchanges: [fetchExchange], fetch, preferGetMethod: false, fetchSubscriptions: true });
}
