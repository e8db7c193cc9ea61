import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { Pager } from "./Pager";

afterEach(cleanup);

describe("Pager", () => {
  it("reads a connection: shown, total and the next page", () => {
    const page = { nodes: [1, 2], totalCount: 5, pageInfo: { hasNextPage: true, endCursor: "c2" } };
    render(
      <MemoryRouter initialEntries={["/x?after=c0"]}>
        <Pager page={page} what="sites" />
      </MemoryRouter>,
    );
    expect(screen.getByRole("navigation", { name: "Pages of sites" }).textContent).toContain("Showing 2 of 5 sites");
    expect(screen.getByRole("button", { name: "Next page" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "First page" })).toBeTruthy();
  });

  it("takes the numbers where fewer rows are shown than the page holds", () => {
    render(
      <MemoryRouter>
        <Pager shown={1} totalCount={3} endCursor={null} hasNextPage={false} what="downtimes" />
      </MemoryRouter>,
    );
    expect(screen.getByRole("navigation").textContent).toContain("Showing 1 of 3 downtimes");
    expect(screen.queryByRole("button")).toBeNull();
  });
});
