// One urql client per identity: a normalised cache (graphcache) keyed by the API's global
// `Node` ids, HTTP for queries and mutations, graphql-transport-ws for live subscriptions.
import { cacheExchange, type KeyingConfig } from "@urql/exchange-graphcache";
import { createClient as createWsClient } from "graphql-ws";
import { Client, fetchExchange, subscriptionExchange } from "urql";
import schema from "../gql/introspection";
import { updates } from "./updates";

interface IntrospectedField {
  name: string;
}
interface IntrospectedType {
  kind: string;
  name: string;
  fields?: readonly IntrospectedField[] | null;
}

/** Object types without an `id` are values inside their parent (a site's country, a page's
 * pageInfo): graphcache embeds them instead of warning that it cannot key them. */
export function embeddedKeys(types: readonly IntrospectedType[]): KeyingConfig {
  const keys: KeyingConfig = {};
  for (const type of types) {
    if (type.kind !== "OBJECT" || type.name.startsWith("__")) continue;
    if (["Query", "Mutation", "Subscription"].includes(type.name)) continue;
    if (!(type.fields ?? []).some((field) => field.name === "id")) keys[type.name] = () => null;
  }
  return keys;
}

export function websocketUrl(location: Location): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/graphql`;
}

export function makeClient(token: string | null): Client {
  const headers: Record<string, string> = token ? { "x-api-key": token } : {};
  const ws = createWsClient({
    url: websocketUrl(window.location),
    connectionParams: () => (token ? { "x-api-key": token } : {}),
    lazy: true,
    retryAttempts: Infinity,
  });
  return new Client({
    url: "/graphql",
    fetchOptions: () => ({ headers, credentials: "same-origin" }),
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange({
        schema,
        keys: embeddedKeys(schema.__schema.types),
        updates,
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
