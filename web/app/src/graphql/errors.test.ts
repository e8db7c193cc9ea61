import { GraphQLError } from "graphql";
import { CombinedError } from "urql";
import { describe, expect, it } from "vitest";
import { codeOf, describeError, fieldProblems } from "./errors";

const badInput = new CombinedError({
  graphQLErrors: [
    new GraphQLError("a downtime must start within 24 hours in the past", {
      extensions: { code: "BAD_USER_INPUT", field: "input.startDate", rule: "DOWNTIME_START_TOO_FAR_IN_PAST" },
    }),
  ],
});

describe("errors in words", () => {
  it("maps a network failure to a sentence", () => {
    const error = new CombinedError({ networkError: new Error("Failed to fetch") });
    expect(describeError(error)[0]).toMatch(/could not be reached \(Failed to fetch\)/);
    expect(codeOf(error)).toBeNull();
  });

  it("says what each code means, then the server's message and field", () => {
    const forbidden = new CombinedError({
      graphQLErrors: [new GraphQLError("you hold no role over INFN-T1", { extensions: { code: "FORBIDDEN" } })],
    });
    expect(describeError(forbidden)).toEqual(["You are not allowed to do this. you hold no role over INFN-T1"]);
    expect(describeError(badInput)[0]).toContain("(input.startDate)");
    expect(codeOf(badInput)).toBe("BAD_USER_INPUT");
  });

  it("keys BAD_USER_INPUT problems by field, with their rule code", () => {
    expect(fieldProblems(badInput)).toEqual({
      startDate: {
        field: "input.startDate",
        rule: "DOWNTIME_START_TOO_FAR_IN_PAST",
        message: "a downtime must start within 24 hours in the past",
      },
    });
    const other = new CombinedError({
      graphQLErrors: [new GraphQLError("no", { extensions: { code: "FORBIDDEN", field: "input.x" } })],
    });
    expect(fieldProblems(other)).toEqual({});
    expect(fieldProblems(undefined)).toEqual({});
  });

  it("drops the field's name in front of a message", () => {
    const error = new CombinedError({
      graphQLErrors: [
        new GraphQLError("input.endsAt: the end must be after the start", {
          extensions: { code: "BAD_USER_INPUT", field: "input.endsAt", rule: "DOWNTIME_END_NOT_AFTER_START" },
        }),
        new GraphQLError("input.scopes: unknown scope 'X'", {
          extensions: { code: "BAD_USER_INPUT", field: "input.topic" },
        }),
      ],
    });
    expect(fieldProblems(error)).toEqual({
      endsAt: { field: "input.endsAt", rule: "DOWNTIME_END_NOT_AFTER_START", message: "the end must be after the start" },
      // another field's name stays: it says which field the message is about
      topic: { field: "input.topic", rule: null, message: "input.scopes: unknown scope 'X'" },
    });
  });
});
