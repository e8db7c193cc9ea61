import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { useSubscription } from "urql";
import type { DowntimeEventFilter, DowntimeEventsLiveSubscription } from "../../gql/graphql";
import { downtimePath, EVENT_WORDS, formatMoment } from "./format";
import { DowntimeEventsSubscription } from "./operations";

export type LiveEvent = DowntimeEventsLiveSubscription["downtimeEvents"];

/** Downtime events as they happen (graphql-transport-ws): calls `onEvent` once per event and
 * keeps the latest few for `<LiveToasts>`. */
export function useDowntimeEvents(
  filter: DowntimeEventFilter | null,
  onEvent: (event: LiveEvent) => void,
): [LiveEvent[], (sequence: number) => void] {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  // the reducer keeps every event, even two that arrive between renders
  const [{ data }] = useSubscription<DowntimeEventsLiveSubscription, LiveEvent[]>(
    { query: DowntimeEventsSubscription, variables: { filter } },
    (previous = [], response) => [response.downtimeEvents, ...previous].slice(0, 20),
  );
  const seen = useRef(new Set<number>());
  useEffect(() => {
    const fresh = (data ?? []).filter((event) => !seen.current.has(event.sequence)).reverse();
    if (!fresh.length) return;
    for (const event of fresh) {
      seen.current.add(event.sequence);
      handler.current(event);
    }
    setEvents((previous) => [...fresh.reverse(), ...previous].slice(0, 5));
  }, [data]);
  const dismiss = (sequence: number) => setEvents((previous) => previous.filter((e) => e.sequence !== sequence));
  return [events, dismiss];
}

export function eventSentence(event: LiveEvent): string {
  return `Downtime ${EVENT_WORDS[event.kind] ?? event.kind.toLowerCase()} at ${event.site}`;
}

/** Toasts for live events, in a polite live region so screen readers hear them too. */
export function LiveToasts({ events, dismiss }: { events: LiveEvent[]; dismiss: (sequence: number) => void }) {
  return (
    <div className="downtimes-toasts" role="status" aria-live="polite" aria-label="Live downtime events">
      {events.map((event) => (
        <div key={event.sequence} className="downtimes-toast" data-kind={event.kind}>
          <p>
            <strong>{eventSentence(event)}</strong>
            <br />
            {event.severity} {event.classification}, {formatMoment(event.startsAt)} to {formatMoment(event.endsAt)}
          </p>
          {event.kind !== "CANCELLED" ? <Link to={downtimePath(event.downtimeId)}>Open</Link> : null}{" "}
          <button type="button" onClick={() => dismiss(event.sequence)} aria-label={`Dismiss: ${eventSentence(event)}`}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

export function occurred(event: LiveEvent): string {
  return formatMoment(event.occurredAt);
}
