import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Contact } from "./parts";

afterEach(cleanup);

function contact(value: string | null, readable?: boolean) {
  render(
    <dl>
      <Contact label="E-mail" value={value} readable={readable} />
    </dl>,
  );
  return screen.getByRole("definition");
}

describe("Contact", () => {
  it("says hidden for a null the viewer may not read", () => {
    expect(contact(null, false).textContent).toBe("hidden");
  });
  it("says not set for a null the viewer may read", () => {
    expect(contact(null, true).textContent).toBe("not set");
  });
  it("says hidden when the object has no contactsReadable", () => {
    expect(contact(null).textContent).toBe("hidden");
  });
  it("shows a value the viewer may read", () => {
    expect(contact("ops@example.org", true).textContent).toBe("ops@example.org");
  });
});
