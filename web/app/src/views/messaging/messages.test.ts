import { describe, expect, it } from "vitest";
import { acknowledgement, mergeMessages } from "./messages";

const m = (n: number) => ({ messageId: String(n), ackId: `projects/P/subscriptions/S:${n}` });

describe("the list of messages awaiting acknowledgement", () => {
  it("keeps arrival order and shows each message once", () => {
    expect(mergeMessages([m(1), m(2)], [m(2), m(3), m(3)])).toEqual([m(1), m(2), m(3)]);
    expect(mergeMessages([], [m(5)])).toEqual([m(5)]);
  });

  it("takes everything up to the last chosen message off the list", () => {
    const list = [m(1), m(2), m(3), m(4)];
    const done = acknowledgement(list, new Set(["3", "1"]));
    expect(done.ackIds).toEqual([m(1).ackId, m(3).ackId]);
    expect(done.acknowledged).toEqual([m(1), m(2), m(3)]);
    expect(done.remaining).toEqual([m(4)]);
  });

  it("sends nothing when nothing is chosen, and everything for all", () => {
    const list = [m(1), m(2)];
    expect(acknowledgement(list, new Set())).toEqual({ ackIds: [], acknowledged: [], remaining: list });
    expect(acknowledgement(list, new Set(["1", "2"])).remaining).toEqual([]);
  });
});
