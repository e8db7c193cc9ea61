// GraphiQL for opsgraph, bundled with every asset it needs: the page loads nothing from
// another origin (the server sends a Content-Security-Policy that forbids it).
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./page.css";

import { createGraphiQLFetcher, type Fetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { type DocumentNode, type OperationDefinitionNode, Kind, OperationTypeNode } from "graphql";
import { createClient, type SubscribePayload } from "graphql-ws";
import { createElement } from "react";
import { createRoot } from "react-dom/client";

const httpUrl = new URL("/graphql", window.location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

const overHttp = createGraphiQLFetcher({ url: httpUrl.href, enableIncrementalDelivery: false });

const CREDENTIALS = new Set(["x-api-key", "authorization"]);

/** The headers editor's headers, less an empty `x-api-key` or `authorization` (the editor
 * starts with an empty `x-api-key` to show where a token goes; sent empty, it is refused). */
function headersOf(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(
      ([name, value]) => !(CREDENTIALS.has(name.toLowerCase()) && !String(value ?? "").trim()),
    ),
  );
}

function isSubscription(document: DocumentNode | undefined, operationName?: string | null) {
  const operations = (document?.definitions ?? []).filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const chosen = operationName
    ? operations.find((op) => op.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  return chosen?.operation === OperationTypeNode.SUBSCRIPTION;
}

/** The headers editor's credentials, sent as the graphql-transport-ws `connection_init`
 * payload (a browser cannot set headers on a WebSocket handshake). */
function connectionParams(headers: Record<string, unknown> | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(headersOf(headers))) {
    const key = name.toLowerCase();
    if (CREDENTIALS.has(key) && typeof value === "string") {
      params[key] = value;
    }
  }
  return params;
}

/** Subscriptions over graphql-transport-ws, one socket each (closed when GraphiQL stops
 * listening); everything else over HTTP. */
const fetcher: Fetcher = (params, options) => {
  if (!isSubscription(options?.documentAST, params.operationName)) {
    return overHttp(params, { ...options, headers: headersOf(options?.headers) });
  }
  const client = createClient({
    url: wsUrl.href,
    connectionParams: connectionParams(options?.headers),
    lazy: true,
    retryAttempts: 0,
  });
  const stream = client.iterate(params as SubscribePayload);
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => stream.next(),
    async return() {
      const done = await stream.return?.();
      await client.dispose();
      return done ?? { done: true, value: undefined };
    },
  } as AsyncIterableIterator<unknown> as ReturnType<Fetcher>;
};

const EXAMPLE = `# opsgraph: the topology, messaging and downtimes of a federated e-infrastructure.
# Ctrl-Enter runs the query; Ctrl-Space completes. Put an API token in the Headers tab
# ("x-api-key") to act as its user, also for subscriptions (sent on connection_init).
{
  sites(first: 5) {
    totalCount
    edges {
      node {
        shortName
        country { code }
        ngi { name }
        services { hostName serviceType }
      }
    }
  }
}
`;

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    createElement(GraphiQL, {
      fetcher,
      defaultQuery: EXAMPLE,
      defaultHeaders: '{\n  "x-api-key": ""\n}',
      shouldPersistHeaders: false,
    }),
  );
}
