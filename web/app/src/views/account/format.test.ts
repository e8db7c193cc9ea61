import { describe, expect, it } from "vitest";
import { diffRows, formatTime, isoToUtcInput, kindLabel, roleTypesByKind, tokenState, utcInputToIso } from "./format";

describe("times in UTC", () => {
  it("shows an API time to the minute, in UTC", () => {
    expect(formatTime("2026-12-03T17:59:54.123+00:00")).toBe("2026-12-03 17:59 UTC");
    expect(formatTime("2026-12-03T18:30:00+01:00")).toBe("2026-12-03 17:30 UTC");
    expect(formatTime(null)).toBe("");
    expect(formatTime("not a time")).toBe("not a time");
  });

  it("reads a datetime-local value as UTC, with the offset the API asks for", () => {
    expect(utcInputToIso("2026-12-03T10:00")).toBe("2026-12-03T10:00:00Z");
    expect(utcInputToIso("2026-12-03T10:00:30")).toBe("2026-12-03T10:00:30Z");
    expect(utcInputToIso("")).toBeNull();
    expect(utcInputToIso("yesterday")).toBeNull();
    expect(utcInputToIso("2026-13-45T10:00")).toBeNull();
  });

  it("goes back from the API's time to the input's value", () => {
    expect(isoToUtcInput("2026-12-03T10:00:00Z")).toBe("2026-12-03T10:00");
    expect(isoToUtcInput(utcInputToIso("2026-01-31T23:59"))).toBe("2026-01-31T23:59");
    expect(isoToUtcInput("")).toBe("");
    expect(isoToUtcInput("garbage")).toBe("");
  });
});

describe("a change's diff", () => {
  it("gives one row per field with before and after", () => {
    expect(diffRows({ status: ["PENDING", "GRANTED"], user: [null, "bob"], note: ["", "x"] })).toEqual([
      { field: "status", before: "PENDING", after: "GRANTED" },
      { field: "user", before: "—", after: "bob" },
      { field: "note", before: "(empty)", after: "x" },
    ]);
  });

  it("shows values that are not pairs as the new value, and objects as JSON", () => {
    expect(diffRows({ scopes: { added: ["EGI"] } })).toEqual([{ field: "scopes", before: "—", after: '{"added":["EGI"]}' }]);
    expect(diffRows({ n: [1, 2] })).toEqual([{ field: "n", before: "1", after: "2" }]);
  });

  it("has no rows for no changes", () => {
    expect(diffRows(null)).toEqual([]);
    expect(diffRows({})).toEqual([]);
    expect(diffRows([1, 2])).toEqual([]);
  });
});

describe("a token's state", () => {
  const now = new Date("2026-12-03T12:00:00Z");
  it("is revoked, expired or live", () => {
    expect(tokenState({ revokedAt: "2026-12-01T00:00:00Z", expiresAt: null }, now)).toBe("revoked");
    expect(tokenState({ revokedAt: null, expiresAt: "2026-12-03T11:59:00Z" }, now)).toBe("expired");
    expect(tokenState({ revokedAt: null, expiresAt: "2026-12-04T00:00:00Z" }, now)).toBe("live");
    expect(tokenState({}, now)).toBe("live");
  });
});

describe("role requests", () => {
  it("groups the server's role types by kind of entity, in the server's order", () => {
    const grouped = roleTypesByKind([
      { name: "COD Staff", entityKind: "PROJECT" },
      { name: "Site Administrator", entityKind: "SITE" },
      { name: "Site Security Officer", entityKind: "SITE" },
      { name: "Service Group Administrator", entityKind: "SERVICE_GROUP" },
      { name: "Something new", entityKind: "SERVICE" },
    ]);
    expect(grouped).toEqual({
      site: ["Site Administrator", "Site Security Officer"],
      ngi: [],
      project: ["COD Staff"],
      service_group: ["Service Group Administrator"],
    });
    expect(kindLabel("service_group")).toBe("Service group");
    expect(kindLabel("msg_topic")).toBe("msg topic");
  });
});
