import { describe, expect, it } from "vitest";
import schema from "../gql/introspection";
import { embeddedKeys, websocketUrl } from "./client";

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
