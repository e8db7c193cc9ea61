import { describe, expect, it } from "vitest";
import { classify, parseLocalDateTime, previewClassification, SCHEDULED_NOTICE_MS, toLocalDateTime } from "./classification";

const now = new Date("2026-12-03T12:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms);

describe("classify: the server's 24-hour rule", () => {
  it("is SCHEDULED only when the start is more than 24 hours ahead", () => {
    expect(classify(at(SCHEDULED_NOTICE_MS + 1000), now)).toBe("SCHEDULED");
    expect(classify(at(SCHEDULED_NOTICE_MS + 1), now)).toBe("SCHEDULED");
  });

  it("is UNSCHEDULED at exactly 24 hours, within them, and in the past", () => {
    expect(classify(at(SCHEDULED_NOTICE_MS), now)).toBe("UNSCHEDULED");
    expect(classify(at(SCHEDULED_NOTICE_MS - 1), now)).toBe("UNSCHEDULED");
    expect(classify(at(60_000), now)).toBe("UNSCHEDULED");
    expect(classify(at(-3_600_000), now)).toBe("UNSCHEDULED");
  });

  it("has a 24-hour notice", () => {
    expect(SCHEDULED_NOTICE_MS).toBe(86_400_000);
  });
});

describe("datetime-local values", () => {
  it("parse as local time and format back", () => {
    const moment = parseLocalDateTime("2026-12-05T09:30");
    expect(moment).not.toBeNull();
    expect(moment?.getHours()).toBe(9);
    expect(moment?.getMinutes()).toBe(30);
    expect(toLocalDateTime(moment as Date)).toBe("2026-12-05T09:30");
    expect(parseLocalDateTime("2026-12-05T09:30:15")?.getSeconds()).toBe(15);
  });

  it("refuse what is not a time", () => {
    expect(parseLocalDateTime("")).toBeNull();
    expect(parseLocalDateTime("2026-12-05")).toBeNull();
    expect(parseLocalDateTime("tomorrow")).toBeNull();
    expect(parseLocalDateTime("2026-02-30T10:00")).toBeNull();
  });

  it("give the preview as the start is typed", () => {
    const local = (d: Date) => toLocalDateTime(d);
    expect(previewClassification("", now)).toBeNull();
    expect(previewClassification("2026-1", now)).toBeNull();
    expect(previewClassification(local(at(2 * 3_600_000)), now)).toBe("UNSCHEDULED");
    expect(previewClassification(local(at(25 * 3_600_000)), now)).toBe("SCHEDULED");
  });
});
