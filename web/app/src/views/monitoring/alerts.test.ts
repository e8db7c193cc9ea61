import { describe, expect, it } from "vitest";
import { describeRule, draftOf, EMPTY_RULE, failingMetrics, inputOf } from "./alerts";

describe("alert rule drafts", () => {
  it("sends empty fields as null and numbers as numbers", () => {
    const result = inputOf({ ...EMPTY_RULE, name: "cnaf", site: " INFN-T1 ", afterFailures: "3", flapWindowMinutes: "" });
    expect(result).toEqual({
      input: expect.objectContaining({
        name: "cnaf",
        site: "INFN-T1",
        ngi: null,
        report: null,
        afterFailures: 3,
        remindHours: null,
        flapWindowMinutes: 60,
        topic: null,
        webhookUrl: null,
      }),
    });
  });

  it("refuses a number that is not whole by its field's name", () => {
    const result = inputOf({ ...EMPTY_RULE, name: "x", remindHours: "1.5" });
    expect(result).toEqual({ problems: { remindHours: { field: "input.remindHours", rule: null, message: "must be a whole number" } } });
  });

  it("edits a rule as it was and says what it does", () => {
    const rule = {
      name: "ngi",
      site: null,
      ngi: "NGI_IT",
      serviceType: "SRM",
      report: "Critical",
      onCritical: true,
      afterFailures: 2,
      remindHours: 4,
      onRecovery: false,
      flapChanges: 5,
      flapWindowMinutes: 30,
      email: true,
      topic: { project: "ops", topic: "alerts" },
      webhookUrl: null,
      enabled: true,
    };
    const draft = draftOf(rule);
    expect(draft.afterFailures).toBe("2");
    expect(draft.project).toBe("ops");
    expect(inputOf(draft)).toEqual({ input: rule });
    expect(describeRule(rule)).toBe(
      "Watches SRM services of NGI NGI_IT (status as report Critical combines their metrics); tells of a change to CRITICAL, 2 results in a row not OK; reminders every 4 h while not OK; flapping at 5 changes within 30 min silences it; by e-mail, topic ops/alerts.",
    );
  });

  it("names a state's failing metrics", () => {
    expect(
      failingMetrics([
        { metric: "generic.tcp.connect", status: "CRITICAL" },
        { metric: "generic.certificate.validity", status: "WARNING" },
      ]),
    ).toBe("generic.tcp.connect CRITICAL, generic.certificate.validity WARNING");
    expect(failingMetrics([])).toBe("");
  });
});
