// The subscription page's list of messages awaiting acknowledgement: pulled and live
// batches merged, and what an acknowledgement takes off the list.

export interface Message {
  ackId: string;
  messageId: string;
  data: string;
  attributes: { key: string; value: string }[];
  publishTime: string;
}

/** Pulled and live messages, in arrival order, each once (a message pulled by hand and
 * handed out by the live stream as well shows once). */
export function mergeMessages<M extends { messageId: string }>(known: readonly M[], arrived: readonly M[]): M[] {
  const seen = new Set(known.map((m) => m.messageId));
  const added = arrived.filter((m) => {
    if (seen.has(m.messageId)) return false;
    seen.add(m.messageId);
    return true;
  });
  return [...known, ...added];
}

/** Acknowledgements are cumulative: acknowledging the chosen messages also acknowledges
 * every message before the last chosen one. Returns the ack ids to send, what leaves the
 * list and what stays. Nothing chosen: nothing is sent. */
export function acknowledgement<M extends { messageId: string; ackId: string }>(
  messages: readonly M[],
  chosen: ReadonlySet<string>,
): { ackIds: string[]; acknowledged: M[]; remaining: M[] } {
  let last = -1;
  messages.forEach((m, index) => {
    if (chosen.has(m.messageId)) last = index;
  });
  return {
    ackIds: messages.filter((m) => chosen.has(m.messageId)).map((m) => m.ackId),
    acknowledged: messages.slice(0, last + 1),
    remaining: messages.slice(last + 1),
  };
}
