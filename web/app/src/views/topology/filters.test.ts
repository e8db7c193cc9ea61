import { describe, expect, it } from "vitest";
import { filterFromParams, filterQueryString, splitList, withFilter } from "./filters";
import { BY_CERTIFICATION, LEGEND, byLiveStatus, colourOf, markerStatus } from "./status";

describe("filterFromParams", () => {
  it("reads every SiteFilter field the form sets, repeated or comma-separated", () => {
    const params = new URLSearchParams(
      "ngi=NGI_DE&ngi=NGI_IT&country=DE,Italy&status=certified&status=SUSPENDED&infra=TEST&scope=EGI&scope=wlcg&scopeMatch=all",
    );
    expect(filterFromParams(params)).toEqual({
      ngi: ["NGI_DE", "NGI_IT"],
      country: ["DE", "Italy"],
      certificationStatus: ["CERTIFIED", "SUSPENDED"],
      productionInfrastructure: ["TEST"],
      scopes: ["EGI", "wlcg"],
      scopeMatch: "ALL",
    });
  });

  it("leaves out what is absent or names nothing valid (default scopes apply)", () => {
    expect(filterFromParams(new URLSearchParams(""))).toEqual({});
    expect(filterFromParams(new URLSearchParams("status=bogus&infra=&scopeMatch=ALL&after=xyz"))).toEqual({});
  });
});

describe("withFilter", () => {
  it("replaces one parameter, keeps the others and restarts at the first page", () => {
    const params = new URLSearchParams("ngi=NGI_DE&status=CLOSED&after=abc");
    expect(withFilter(params, "status", ["CERTIFIED", "CANDIDATE"]).toString()).toBe(
      "ngi=NGI_DE&status=CERTIFIED&status=CANDIDATE",
    );
    expect(withFilter(params, "ngi", []).toString()).toBe("status=CLOSED");
    expect(withFilter(params, "infra", "").toString()).toBe("ngi=NGI_DE&status=CLOSED");
  });

  it("keeps only the filter when handing it to another view", () => {
    expect(filterQueryString(new URLSearchParams("ngi=NGI_DE&after=abc&x=1"))).toBe("?ngi=NGI_DE");
    expect(filterQueryString(new URLSearchParams("after=abc"))).toBe("");
  });

  it("splits a typed list of countries", () => {
    expect(splitList(" DE, Italy ,, ")).toEqual(["DE", "Italy"]);
  });
});

describe("status colours", () => {
  it("gives every certification status its own colour, from one place", () => {
    const fills = LEGEND.map((status) => colourOf(status).fill);
    expect(new Set(fills).size).toBe(LEGEND.length);
    expect(markerStatus({ shortName: "pic", certificationStatus: "SUSPENDED" })).toBe("SUSPENDED");
  });
});

describe("live status colours", () => {
  it("colour each site by its status under the report; a site without one is 'No status'", () => {
    const colouring = byLiveStatus("Critical", new Map([["pic", "CRITICAL"], ["odd", "SOMETHING"]]));
    expect(colouring.title).toBe("Status now under Critical");
    const site = (shortName: string) => ({ shortName, certificationStatus: "CERTIFIED" as const });
    expect(markerStatus(site("pic"), colouring)).toBe("CRITICAL");
    expect(markerStatus(site("odd"), colouring)).toBe("NONE");
    expect(markerStatus(site("gone"), colouring)).toBe("NONE");
    expect(colouring.colour("DOWNTIME").label).toBe("In downtime");
    const fills = colouring.legend.map((key) => colouring.colour(key).fill);
    expect(new Set(fills).size).toBe(colouring.legend.length);
    expect(markerStatus(site("pic"), BY_CERTIFICATION)).toBe("CERTIFIED");
  });
});
