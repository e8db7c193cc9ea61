import { describe, expect, it } from "vitest";
import { changeFilter, filtersFromParams, orderFromParams, paramsWithOrder } from "./ChangesPage";

describe("the change log's filter in the URL", () => {
  it("reads every filter from the URL and sends only those given", () => {
    const filters = filtersFromParams(new URLSearchParams("entityType=site&actor=demo-admin%40egi.eu&after=abc"));
    expect(filters).toEqual({ entityType: "site", entity: "", actor: "demo-admin@egi.eu", since: "", until: "" });
    expect(changeFilter(filters)).toEqual({ entityType: "site", actor: "demo-admin@egi.eu" });
  });

  it("sends no filter when none is given", () => {
    expect(changeFilter(filtersFromParams(new URLSearchParams("after=abc")))).toBeNull();
  });

  it("shows the newest first unless the URL asks for the oldest", () => {
    expect(orderFromParams(new URLSearchParams(""))).toBe("NEWEST_FIRST");
    expect(orderFromParams(new URLSearchParams("order=oldest"))).toBe("OLDEST_FIRST");
    expect(orderFromParams(new URLSearchParams("order=sideways"))).toBe("NEWEST_FIRST");
  });

  it("keeps the filters and starts from the first page when the order changes", () => {
    const oldest = paramsWithOrder(new URLSearchParams("actor=a%40egi.eu&after=abc"), "OLDEST_FIRST");
    expect(oldest.toString()).toBe("actor=a%40egi.eu&order=oldest");
    expect(paramsWithOrder(oldest, "NEWEST_FIRST").toString()).toBe("actor=a%40egi.eu");
  });
});
