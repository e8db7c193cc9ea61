import { describe, expect, it } from "vitest";
import { changedFields, kindLabel, usageNote } from "./credentials";

const format = (iso: string) => iso.slice(0, 10);

describe("API credentials", () => {
  it("labels the kinds", () => {
    expect(kindLabel("X509")).toBe("X.509 DN");
    expect(kindLabel("OIDC_SUBJECT")).toBe("OIDC subject");
  });

  it("says whether a credential is flagged, unused or when it was used", () => {
    const base = { lastRenewedAt: "2026-01-01T00:00:00Z", lastUsedAt: null, unusedFlaggedAt: null };
    expect(usageNote(base, format)).toBe("never used");
    expect(usageNote({ ...base, lastUsedAt: "2026-02-03T00:00:00Z" }, format)).toBe("last used 2026-02-03");
    expect(usageNote({ ...base, unusedFlaggedAt: "2027-02-01T00:00:00Z" }, format)).toMatch(/^flagged unused on 2027-02-01/);
  });

  it("sends only the fields an edit changed", () => {
    const before = { identifier: "/CN=a", kind: "X509" as const, allowWrite: false };
    expect(changedFields(before, { ...before })).toEqual({});
    expect(changedFields(before, { ...before, allowWrite: true })).toEqual({ allowWrite: true });
    expect(changedFields(before, { identifier: "sub", kind: "OIDC_SUBJECT", allowWrite: false })).toEqual({
      identifier: "sub",
      kind: "OIDC_SUBJECT",
    });
  });
});
