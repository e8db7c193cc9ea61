import { Kind } from "graphql";
import { describe, expect, it, vi } from "vitest";
import { ViewerDocument } from "../gql/graphql";
import schema from "../gql/introspection";
import { documentHash, embeddedKeys, makeClient, websocketUrl } from "./client";

describe("the cache's keys", () => {
  it("embeds exactly the object types that have no id", () => {
    const keys = embeddedKeys(schema.__schema.types);
    expect(Object.keys(keys)).toContain("PageInfo");
    expect(Object.keys(keys)).toContain("Country");
    expect(Object.keys(keys)).not.toContain("Site");
    expect(Object.keys(keys)).not.toContain("Query");
    expect(keys.PageInfo?.({ __typename: "PageInfo" })).toBeNull();
  });

  it("speaks wss to an https page and ws to an http one", () => {
    expect(websocketUrl({ protocol: "https:", host: "ops.example:8443" } as Location)).toBe("wss://ops.example:8443/graphql");
    expect(websocketUrl({ protocol: "http:", host: "127.0.0.1:8000" } as Location)).toBe("ws://127.0.0.1:8000/graphql");
  });
});

describe("persisted operations", () => {
  it("sends codegen's hash of a generated document, without its prefix", () => {
    const hash = documentHash(ViewerDocument);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(`sha256:${hash}`).toBe((ViewerDocument as { __meta__?: { hash?: string } }).__meta__?.hash);
  });

  it("gives no hash to a document codegen did not generate, which then goes as text", () => {
    expect(documentHash({ kind: Kind.DOCUMENT, definitions: [] })).toBe("");
  });
});

describe("the client's requests", () => {
  it("send a generated document as its hash alone", async () => {
    const bodies: unknown[] = [];
    const fetchMock = vi.fn(async (_url: unknown, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify({ data: { __typename: "Query", viewer: null } }), {
        headers: { "content-type": "application/json" },
      });
    });
    vi.stubGlobal("fetch", fetchMock);
    try {
      await makeClient(null).query(ViewerDocument, {}).toPromise();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(bodies).toEqual([
      expect.objectContaining({
        extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(ViewerDocument) } },
      }),
    ]);
    expect(bodies[0]).not.toHaveProperty("query");
  });
});
