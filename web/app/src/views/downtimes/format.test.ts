import { GraphQLError } from "graphql";
import { CombinedError } from "urql";
import { describe, expect, it } from "vitest";
import { formatDuration, ruleProblems } from "./format";

describe("rule problems", () => {
  it("are keyed by field with the rule's message, without the field's name in front", () => {
    const error = new CombinedError({
      graphQLErrors: [
        new GraphQLError("input.endsAt: the end must be after the start", {
          extensions: { code: "BAD_USER_INPUT", field: "input.endsAt", rule: "DOWNTIME_END_NOT_AFTER_START" },
        }),
      ],
    });
    expect(ruleProblems(error)).toEqual({
      endsAt: { field: "input.endsAt", rule: "DOWNTIME_END_NOT_AFTER_START", message: "the end must be after the start" },
    });
    expect(ruleProblems(undefined)).toEqual({});
  });
});

describe("durations", () => {
  it("say days, hours and minutes", () => {
    expect(formatDuration("2026-12-03T10:00:00Z", "2026-12-04T12:30:00Z")).toBe("1 d 2 h 30 min");
    expect(formatDuration("2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z")).toBe("0 min");
  });
});
