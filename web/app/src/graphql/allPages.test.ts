import { describe, expect, it } from "vitest";
import { fetchAllPages, type PageOf } from "./allPages";

const PAGES: Record<string, PageOf<number>> = {
  start: { nodes: [1, 2], pageInfo: { hasNextPage: true, endCursor: "a" } },
  a: { nodes: [3], pageInfo: { hasNextPage: true, endCursor: "b" } },
  b: { nodes: [4], pageInfo: { hasNextPage: false, endCursor: "c" } },
};

describe("all pages", () => {
  it("follow the cursor until the last page", async () => {
    const asked: (string | null)[] = [];
    const all = await fetchAllPages(async (after) => {
      asked.push(after);
      return PAGES[after ?? "start"]!;
    });
    expect(all).toEqual([1, 2, 3, 4]);
    expect(asked).toEqual([null, "a", "b"]);
  });

  it("stop at maxPages, and where a page has no cursor", async () => {
    const endless = async () => ({ nodes: [0], pageInfo: { hasNextPage: true, endCursor: "x" } });
    expect(await fetchAllPages(endless, { maxPages: 3 })).toEqual([0, 0, 0]);
    const noCursor = async () => ({ nodes: [5], pageInfo: { hasNextPage: true, endCursor: null } });
    expect(await fetchAllPages(noCursor)).toEqual([5]);
  });

  it("keep what came before a failure", async () => {
    const found: number[] = [];
    const failing = async (after: string | null) => {
      if (after === "a") throw new Error("boom");
      return PAGES.start!;
    };
    await expect(fetchAllPages(failing, { found })).rejects.toThrow("boom");
    expect(found).toEqual([1, 2]);
  });
});
