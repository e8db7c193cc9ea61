// One urql client per identity: a normalised cache (graphcache) keyed by the API's global
// `Node` ids, HTTP for queries and mutations, graphql-transport-ws for live subscriptions.
import { cacheExchange, type KeyingConfig } from "@urql/exchange-graphcache";
import { persistedExchange } from "@urql/exchange-persisted";
import type { DocumentNode } from "graphql";
import { createClient as createWsClient } from "graphql-ws";
import { Client, fetchExchange, mapExchange, subscriptionExchange } from "urql";
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

/** The hash graphql-codegen gave a document (its persisted-documents manifest's key, without
 * the `sha256:` prefix); "" for a document it did not generate, which then goes as text. */
export function documentHash(document: DocumentNode): string {
  const meta = (document as { __meta__?: { hash?: unknown } }).__meta__;
  return typeof meta?.hash === "string" ? meta.hash.replace(/^sha256:/, "") : "";
}

const hashes = new Map<number, string>();

type Keyed = DocumentNode & { __key?: number };

function rememberHash(document: Keyed): void {
  if (document.__key !== undefined && !hashes.has(document.__key)) {
    hashes.set(document.__key, documentHash(document));
  }
}

function rememberedHash(document: Keyed): string {
  return (document.__key !== undefined && hashes.get(document.__key)) || documentHash(document);
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
      // graphcache forwards its own copy of each document (with __typename added): the hash
      // codegen gave the original is noted here, by urql's document key, which the copy keeps
      mapExchange({ onOperation: (operation) => rememberHash(operation.query) }),
      cacheExchange({
        schema,
        keys: embeddedKeys(schema.__schema.types),
        updates,
      }),
      // every operation goes as its hash alone (gateway/persisted.py runs the manifest's
      // document), so a server with OPSGRAPH_TRUSTED_DOCUMENTS=only serves the app; a document
      // codegen did not generate goes as text
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        preferGetForPersistedQueries: false,
        generateHash: (_query, document) => Promise.resolve(rememberedHash(document)),
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          // sent by hash (persistedExchange): graphql-ws wants a string, and the server reads
          // "" beside `extensions.persistedQuery` as no document (gateway/persisted.py)
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
