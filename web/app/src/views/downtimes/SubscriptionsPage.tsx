import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { Pager, useCursor } from "../../components/Pager";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { graphql } from "../../gql";
import type { DowntimeEventKind, MyDowntimeSubscriptionsQuery as ListResult } from "../../gql/graphql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { SignInNotice } from "../../components/SignInNotice";
import { fieldProblems } from "../../graphql/errors";
import { downtimePath, EVENT_WORDS, formatMoment } from "./format";
import {
  DeleteDowntimeSubscriptionMutation,
  MyDowntimeSubscriptionsQuery,
  SubscribeToDowntimesMutation,
  UpdateDowntimeSubscriptionMutation,
} from "./operations";

const SubscriberQuery = graphql(`
  query DowntimeSubscriber {
    viewer {
      subject
      email
    }
  }
`);

type Subscription = ListResult["myDowntimeSubscriptions"]["nodes"][number];
const KINDS: DowntimeEventKind[] = ["DECLARED", "CHANGED", "CANCELLED", "STARTED", "ENDED"];
const FILTERS = [
  ["ngi", "NGI", "An NGI's name; empty: any NGI"],
  ["site", "Site", "A site's short name; empty: any site"],
  ["host", "Host", "A service's host name; empty: any"],
  ["serviceType", "Service type", "e.g. CREAM-CE; empty: any"],
  ["vo", "VO", "A VO one of the services serves; empty: any"],
] as const;
type FilterKey = (typeof FILTERS)[number][0];

interface Draft {
  name: string;
  events: DowntimeEventKind[];
  ngi: string;
  site: string;
  host: string;
  serviceType: string;
  vo: string;
  email: boolean;
  project: string;
  topic: string;
  webhookUrl: string;
  enabled: boolean;
}

const EMPTY: Draft = {
  name: "",
  events: ["DECLARED", "CHANGED", "CANCELLED"],
  ngi: "",
  site: "",
  host: "",
  serviceType: "",
  vo: "",
  email: true,
  project: "",
  topic: "",
  webhookUrl: "",
  enabled: true,
};

function draftOf(s: Subscription): Draft {
  return {
    name: s.name,
    events: [...s.events],
    ngi: s.ngi ?? "",
    site: s.site ?? "",
    host: s.host ?? "",
    serviceType: s.serviceType ?? "",
    vo: s.vo ?? "",
    email: s.email,
    project: s.topic?.project ?? "",
    topic: s.topic?.topic ?? "",
    webhookUrl: s.webhookUrl ?? "",
    enabled: s.enabled,
  };
}

function inputOf(draft: Draft) {
  const orNull = (value: string) => (value.trim() === "" ? null : value.trim());
  return {
    name: draft.name,
    events: draft.events,
    ngi: orNull(draft.ngi),
    site: orNull(draft.site),
    host: orNull(draft.host),
    serviceType: orNull(draft.serviceType),
    vo: orNull(draft.vo),
    email: draft.email,
    topic: draft.project.trim() || draft.topic.trim() ? { project: draft.project.trim(), topic: draft.topic.trim() } : null,
    webhookUrl: orNull(draft.webhookUrl),
    enabled: draft.enabled,
  };
}

function SubscriptionForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
  idPrefix,
}: {
  initial: Draft;
  submitLabel: string;
  onSubmit: (draft: Draft) => Promise<CombinedError | undefined>;
  onCancel?: () => void;
  idPrefix: string;
}) {
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<CombinedError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const problems = fieldProblems(error);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((previous) => ({ ...previous, [key]: value }));
  const known = new Set(["name", "events", ...FILTERS.map(([key]) => key), "webhookUrl", "topic", "topic.project", "topic.topic"]);
  const unmapped = error && (error.networkError || error.graphQLErrors.some((e) => !known.has(String(e.extensions?.field ?? "").replace(/^input\./, ""))));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const failed = await onSubmit(draft);
    setBusy(false);
    setError(failed);
    if (!failed && !onCancel) setDraft(EMPTY);
  };
  return (
    <form className="downtimes-subscription-form" onSubmit={(e) => void submit(e)} noValidate aria-label={submitLabel}>
      <FormField label="Name" name="name" value={draft.name} onChange={(v) => set("name", v)} problem={problems.name} isRequired />
      <fieldset>
        <legend>Events</legend>
        {KINDS.map((kind) => (
          <label key={kind} className="downtimes-inline">
            <input
              type="checkbox"
              name="events"
              value={kind}
              checked={draft.events.includes(kind)}
              onChange={(e) =>
                set("events", e.target.checked ? [...draft.events, kind] : draft.events.filter((k) => k !== kind))
              }
            />{" "}
            {EVENT_WORDS[kind]}
          </label>
        ))}
        {problems.events ? (
          <p className="field-error" data-rule={problems.events.rule ?? undefined} role="alert">
            {problems.events.message}
          </p>
        ) : null}
      </fieldset>
      <fieldset>
        <legend>Which downtimes</legend>
        {FILTERS.map(([key, label, hint]) => (
          <FormField
            key={key}
            label={label}
            name={key}
            value={draft[key as FilterKey]}
            onChange={(v) => set(key as FilterKey, v)}
            problem={problems[key]}
            description={hint}
          />
        ))}
      </fieldset>
      <fieldset>
        <legend>Where to send them</legend>
        <label className="downtimes-inline">
          <input type="checkbox" checked={draft.email} onChange={(e) => set("email", e.target.checked)} /> E-mail to my
          address
        </label>
        <FormField
          label="Webhook URL"
          name="webhookUrl"
          type="url"
          value={draft.webhookUrl}
          onChange={(v) => set("webhookUrl", v)}
          problem={problems.webhookUrl}
          description="Each event is POSTed here as JSON (http or https); empty: none"
        />
        <FormField
          label="Messaging project"
          name={`${idPrefix}-project`}
          value={draft.project}
          onChange={(v) => set("project", v)}
          problem={problems["topic.project"] ?? problems.topic}
        />
        <FormField
          label="Messaging topic"
          name={`${idPrefix}-topic`}
          value={draft.topic}
          onChange={(v) => set("topic", v)}
          problem={problems["topic.topic"]}
          description="A topic you may publish to; both empty: none"
        />
      </fieldset>
      <label className="downtimes-inline">
        <input type="checkbox" checked={draft.enabled} onChange={(e) => set("enabled", e.target.checked)} /> Enabled
      </label>
      {unmapped && error ? <ErrorMessage error={error} /> : null}
      <div className="downtimes-form-buttons">
        <button type="submit" className="primary" disabled={busy}>
          {submitLabel}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function Notifications({ subscription }: { subscription: Subscription }) {
  if (subscription.notifications.length === 0) return <p className="empty">No notifications yet.</p>;
  return (
    <table aria-label={`Latest notifications of ${subscription.name}`}>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Channel</th>
          <th scope="col">Delivery</th>
          <th scope="col">Attempts</th>
          <th scope="col">Created</th>
          <th scope="col">Sent</th>
          <th scope="col">Downtime</th>
        </tr>
      </thead>
      <tbody>
        {subscription.notifications.map((n, index) => (
          <tr key={index}>
            <td>{EVENT_WORDS[n.kind] ?? n.kind}</td>
            <td>{n.channel}</td>
            <td className={`downtimes-delivery-${n.status.toLowerCase()}`}>
              {n.status}
              {n.lastError ? `: ${n.lastError}` : ""}
            </td>
            <td>{n.attempts}</td>
            <td>{formatMoment(n.createdAt)}</td>
            <td>{n.sentAt ? formatMoment(n.sentAt) : "—"}</td>
            <td>{n.kind === "CANCELLED" ? "cancelled" : <Link to={downtimePath(n.downtimeId)}>open</Link>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SubscriptionCard({ subscription }: { subscription: Subscription }) {
  const [editing, setEditing] = useState(false);
  const [, update] = useMutation(UpdateDowntimeSubscriptionMutation);
  const [deleted, remove] = useMutation(DeleteDowntimeSubscriptionMutation);
  const filters = FILTERS.filter(([key]) => subscription[key]).map(([key, label]) => `${label} ${subscription[key]}`);
  const channels = [
    subscription.email ? "e-mail" : null,
    subscription.webhookUrl ? `webhook ${subscription.webhookUrl}` : null,
    subscription.topic ? `topic ${subscription.topic.project}/${subscription.topic.topic}` : null,
  ].filter(Boolean);
  const headingId = `subscription-${subscription.id}`;
  return (
    <article className="downtimes-subscription" aria-labelledby={headingId} data-subscription={subscription.name}>
      <h3 id={headingId}>
        {subscription.name} {subscription.enabled ? null : <span className="downtimes-badge">(disabled)</span>}
      </h3>
      {editing ? (
        <SubscriptionForm
          idPrefix={subscription.id}
          initial={draftOf(subscription)}
          submitLabel="Save subscription"
          onCancel={() => setEditing(false)}
          onSubmit={async (draft) => {
            const result = await update({ input: { id: subscription.id, ...inputOf(draft) } });
            if (!result.error) setEditing(false);
            return result.error;
          }}
        />
      ) : (
        <>
          <p>
            {subscription.events.map((k) => EVENT_WORDS[k] ?? k).join(", ")} downtimes of{" "}
            {filters.length ? filters.join(", ") : "any site"}; sent by {channels.length ? channels.join(", ") : "no channel"}.
          </p>
          <div className="downtimes-action-buttons">
            {subscription.viewerCanEdit ? (
              <button type="button" onClick={() => setEditing(true)}>
                Edit {subscription.name}
              </button>
            ) : null}
            {subscription.viewerCanDelete ? (
              <ConfirmButton
              label={`Delete ${subscription.name}`}
              title={`Delete the subscription ${subscription.name}?`}
              confirmLabel="Delete"
              danger
              onConfirm={() => void remove({ input: { id: subscription.id } })}
            >
                <p>You will no longer be told about these downtimes.</p>
              </ConfirmButton>
            ) : null}
          </div>
          {deleted.error ? <ErrorMessage error={deleted.error} /> : null}
        </>
      )}
      <h4>Latest notifications</h4>
      <Notifications subscription={subscription} />
    </article>
  );
}

function Subscriptions() {
  const [after] = useCursor();
  const [result] = useQuery({ query: MyDowntimeSubscriptionsQuery, variables: { first: 50, after } });
  const [, subscribe] = useMutation(SubscribeToDowntimesMutation);
  return (
    <>
      {result.data?.viewer?.viewerCanSubscribeToDowntimes ? (
        <section aria-labelledby="new-subscription-title">
          <h2 id="new-subscription-title">New subscription</h2>
          <SubscriptionForm
            idPrefix="new"
            initial={EMPTY}
            submitLabel="Subscribe"
            onSubmit={async (draft) => (await subscribe({ input: inputOf(draft) })).error}
          />
        </section>
      ) : null}
      <section aria-labelledby="my-subscriptions-title">
        <h2 id="my-subscriptions-title">My subscriptions</h2>
        <QueryState
          what="subscriptions"
          fetching={result.fetching}
          error={result.error}
          data={result.data?.myDowntimeSubscriptions}
          isEmpty={(data) => data.nodes.length === 0}
          empty="You have no downtime subscriptions yet."
        >
          {(data) => (
            <>
              {data.nodes.map((subscription) => (
                <SubscriptionCard key={subscription.id} subscription={subscription} />
              ))}
              <Pager page={data} what="subscriptions" />
            </>
          )}
        </QueryState>
      </section>
    </>
  );
}

export default function SubscriptionsPage() {
  const [who] = useQuery({ query: SubscriberQuery });
  return (
    <Page title="Downtime subscriptions">
      <p>
        Be told about downtimes by e-mail, webhook or a messaging topic. Each notification's delivery is shown below it.
        For a calendar, use the feed links on the <Link to="/downtimes">downtimes</Link> page.
      </p>
      <QueryState what="your identity" fetching={who.fetching} error={who.error} data={who.data}>
        {(data) => (data.viewer ? <Subscriptions /> : <SignInNotice>Sign in to subscribe to downtimes.</SignInNotice>)}
      </QueryState>
    </Page>
  );
}
