import { describe, expect, it } from "vitest";
import { loadActingAs, saveActingAs } from "./session";

describe("the persona a tab acts as", () => {
  it("round-trips through storage and can be cleared", () => {
    saveActingAs({ key: "site-admin", name: "Chiara Russo", token: "t0k" }, sessionStorage);
    expect(loadActingAs(sessionStorage)).toEqual({ key: "site-admin", name: "Chiara Russo", token: "t0k" });
    saveActingAs(null, sessionStorage);
    expect(loadActingAs(sessionStorage)).toBeNull();
  });

  it("drops a damaged entry instead of failing", () => {
    sessionStorage.setItem("opsgraph.persona", "{not json");
    expect(loadActingAs(sessionStorage)).toBeNull();
    sessionStorage.setItem("opsgraph.persona", JSON.stringify({ key: 1 }));
    expect(loadActingAs(sessionStorage)).toBeNull();
    expect(sessionStorage.getItem("opsgraph.persona")).toBeNull();
  });
});
