import { describe, expect, it } from "vitest";
import { changeFilter, filtersFromParams } from "./ChangesPage";

describe("the change log's filter in the URL", () => {
  it("reads every filter from the URL and sends only those given", () => {
    const filters = filtersFromParams(new URLSearchParams("entityType=site&actor=demo-admin%40egi.eu&after=abc"));
    expect(filters).toEqual({ entityType: "site", entity: "", actor: "demo-admin@egi.eu", since: "", until: "" });
    expect(changeFilter(filters)).toEqual({ entityType: "site", actor: "demo-admin@egi.eu" });
  });

  it("sends no filter when none is given", () => {
    expect(changeFilter(filtersFromParams(new URLSearchParams("after=abc")))).toBeNull();
  });
});
