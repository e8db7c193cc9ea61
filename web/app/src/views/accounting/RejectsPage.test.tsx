import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { fakeClient, type Asked } from "../../test/fakeClient";
import RejectsPage from "./RejectsPage";

const reject = {
  id: "r1",
  receivedAt: "2026-12-01T06:00:00+00:00",
  source: "posted",
  sender: "/CN=apel.example",
  messageId: "m-1",
  rule: "ACCOUNTING_SITE_UNKNOWN",
  field: "record[0].Site",
  reason: "no such site",
  signed: false,
  size: 120,
};

function page(isAdmin: boolean, asked: Asked[], at = "/usage/rejects") {
  const client = fakeClient((operation) => {
    if (operation === "AccountingViewer") return { viewer: { subject: "ada@egi.eu", isAdmin } };
    if (operation === "ReloadAccountingReject") return { reloadAccountingReject: { loaded: true, records: 3, reject: null } };
    if (operation === "DeleteAccountingRejects") return { deleteAccountingRejects: { ids: ["r1"] } };
    return { accountingRejects: { totalCount: 1, pageInfo: { hasNextPage: false, endCursor: null }, nodes: [reject] } };
  }, asked);
  return render(
    <Provider value={client}>
      <MemoryRouter initialEntries={[at]}>
        <RejectsPage />
      </MemoryRouter>
    </Provider>,
  );
}

describe("the accounting rejects page", () => {
  it("lists the rejects for an administrator, loads one again and reads the list again", async () => {
    const asked: Asked[] = [];
    page(true, asked);
    const table = await screen.findByTestId("accounting-rejects");
    expect(within(table).getByText("ACCOUNTING_SITE_UNKNOWN")).toBeTruthy();
    await userEvent.click(within(table).getByRole("button", { name: "Load again" }));
    expect(await screen.findByText("Loaded 3 records of m-1.")).toBeTruthy();
    // Delete opens the app's confirmation dialog (react-aria's modal, not driven under jsdom;
    // tests/web/test_accounting.py deletes a real reject through it)
    expect(within(table).getByRole("button", { name: "Delete" })).toBeTruthy();
    expect(asked.find((a) => a.operation === "ReloadAccountingReject")?.variables).toEqual({ input: { id: "r1" } });
    expect(asked.filter((a) => a.operation === "AccountingRejects")).toHaveLength(2); // read again after
  });

  it("lists what the filter matches, kept in the URL, and offers to delete all it matches", async () => {
    const asked: Asked[] = [];
    page(true, asked);
    await screen.findByTestId("accounting-rejects");
    const form = screen.getByRole("form", { name: "Rejects to list" });
    await userEvent.type(within(form).getByLabelText("Sender (exactly)"), " /CN=apel.example ");
    await userEvent.type(within(form).getByLabelText("Rule"), "ACCOUNTING_SITE_UNKNOWN");
    await userEvent.type(within(form).getByLabelText("Received from (UTC)"), "2026-12-01T05:30");
    await userEvent.click(within(form).getByRole("button", { name: "Filter" }));
    const filter = { sender: "/CN=apel.example", rule: "ACCOUNTING_SITE_UNKNOWN", receivedAfter: "2026-12-01T05:30:00Z" };
    await screen.findByRole("button", { name: "Delete all 1 matching" });
    const lists = asked.filter((a) => a.operation === "AccountingRejects");
    expect(lists.map((a) => a.variables.filter)).toEqual([{}, filter]);
    // cleared: every reject, and the button says so (the API refuses an empty filter); the
    // form is drawn again from the address
    const shown = screen.getByRole("form", { name: "Rejects to list" });
    expect(within(shown).getByLabelText<HTMLInputElement>("Rule").value).toBe("ACCOUNTING_SITE_UNKNOWN");
    await userEvent.click(within(shown).getByRole("button", { name: "Clear" }));
    expect(await screen.findByRole("button", { name: "Delete all 1" })).toBeTruthy();
    expect(asked.filter((a) => a.operation === "AccountingRejects").at(-1)?.variables.filter).toEqual({});
    expect(screen.getByLabelText<HTMLInputElement>("Sender (exactly)").value).toBe("");
  });

  it("reads the filter from the address", async () => {
    const asked: Asked[] = [];
    page(true, asked, "/usage/rejects?rule=ACCOUNTING_NOT_UTF8&receivedBefore=2026-12-02T00%3A00");
    await screen.findByTestId("accounting-rejects");
    expect(asked.find((a) => a.operation === "AccountingRejects")?.variables.filter).toEqual({
      rule: "ACCOUNTING_NOT_UTF8",
      receivedBefore: "2026-12-02T00:00:00Z",
    });
    expect(screen.getByLabelText<HTMLInputElement>("Rule").value).toBe("ACCOUNTING_NOT_UTF8");
  });

  it("asks nothing of the store for anyone else", async () => {
    const asked: Asked[] = [];
    page(false, asked);
    expect(await screen.findByTestId("rejects-refused")).toBeTruthy();
    expect(asked.map((a) => a.operation)).toEqual(["AccountingViewer"]);
  });
});
