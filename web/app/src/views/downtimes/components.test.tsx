import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { toLocalDateTime } from "./classification";
import { ClassificationPreview } from "./DowntimeFormPage";
import { TimelineChart } from "./TimelineChart";

const now = new Date(2026, 11, 3, 12, 0);
const h = (hours: number) => new Date(now.getTime() + hours * 3_600_000);

describe("ClassificationPreview", () => {
  it("says nothing is decided until the start is a time", () => {
    render(<ClassificationPreview start="" now={now} />);
    expect(screen.getByTestId("classification-preview").dataset.value).toBe("");
  });

  it("follows the 24-hour rule and says that the server decides", () => {
    const { rerender } = render(<ClassificationPreview start={toLocalDateTime(h(3))} now={now} />);
    const preview = screen.getByTestId("classification-preview");
    expect(preview.dataset.value).toBe("UNSCHEDULED");
    expect(preview.textContent).toContain("The server decides");
    rerender(<ClassificationPreview start={toLocalDateTime(h(25))} now={now} />);
    expect(preview.dataset.value).toBe("SCHEDULED");
    expect(preview.getAttribute("aria-live")).toBe("polite");
  });
});

describe("TimelineChart", () => {
  it("draws each downtime as a named link and a now line, and says what lies outside", () => {
    const item = (id: string, site: string, start: number, end: number) => ({
      id,
      site,
      startsAt: h(start),
      endsAt: h(end),
      severity: "OUTAGE",
      classification: "UNSCHEDULED",
      description: `downtime ${id}`,
    });
    const { container } = render(
      <MemoryRouter>
        <TimelineChart
          items={[item("RG93bg==", "pic", 1, 5), item("b", "INFN-T1", -2, 2), item("old", "pic", -100, -90)]}
          axis={{ from: h(-24), to: h(24) }}
          now={now}
        />
      </MemoryRouter>,
    );
    const links = container.querySelectorAll("a.downtimes-bar");
    expect(links).toHaveLength(2);
    expect(links[0]?.getAttribute("href")).toBe("/downtimes/b");
    expect(links[1]?.getAttribute("href")).toBe("/downtimes/RG93bg%3D%3D");
    expect(links[1]?.getAttribute("aria-label")).toContain("pic: OUTAGE UNSCHEDULED");
    expect(container.querySelector(".downtimes-now line")).not.toBeNull();
    expect(container.querySelector("[style]")).toBeNull();
    expect(screen.getByRole("group").getAttribute("aria-label")).toContain("2 downtimes of 2 sites");
    expect(container.querySelector("figcaption")?.textContent).toContain("1 downtime lies outside the axis");
  });
});
