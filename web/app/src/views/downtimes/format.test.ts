import { describe, expect, it } from "vitest";
import { formatDuration } from "./format";

describe("durations", () => {
  it("say days, hours and minutes", () => {
    expect(formatDuration("2026-12-03T10:00:00Z", "2026-12-04T12:30:00Z")).toBe("1 d 2 h 30 min");
    expect(formatDuration("2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z")).toBe("0 min");
  });
});
