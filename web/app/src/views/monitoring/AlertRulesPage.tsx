import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { ConfirmButton } from "../../components/ConfirmDialog";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { Pager, useCursor } from "../../components/Pager";
import { ErrorMessage, QueryState } from "../../components/QueryState";
import { SignInNotice } from "../../components/SignInNotice";
import type { MonitoringMyAlertRulesQuery } from "../../gql/graphql";
import { fieldProblems, type FieldProblem } from "../../graphql/errors";
import { formatMoment } from "../downtimes/format";
import {
  describeRule,
  draftOf,
  EMPTY_RULE,
  failingMetrics,
  inputOf,
  type RuleDraft,
  type RuleFields,
} from "./alerts";
import {
  AlertViewerQuery,
  CreateAlertRuleMutation,
  DeleteAlertRuleMutation,
  MyAlertRulesQuery,
  UpdateAlertRuleMutation,
} from "./operations";
import { StatusBadge } from "./StatusBadge";

type Rule = MonitoringMyAlertRulesQuery["myAlertRules"]["nodes"][number];

const TEXT_FIELDS = [
  ["site", "Site", "A site's short name (one you administer)"],
  ["ngi", "NGI", "Or an NGI's name (one you manage); not with a site"],
  ["serviceType", "Service type", "Only this service type; empty: all"],
  ["report", "Report", "Whose profiles combine an endpoint's metrics into its status; empty: Critical"],
] as const;
const NUMBER_FIELDS = [
  ["afterFailures", "After failures in a row", "Alert after this many results in a row not OK (1–100); empty: no"],
  ["remindHours", "Remind every (hours)", "While not OK (1–168); empty: no reminders"],
  ["flapChanges", "Flapping at changes", "This many changes within the window make an endpoint flapping (2–100); empty: no"],
  ["flapWindowMinutes", "Flapping window (minutes)", "The window the changes are counted in"],
] as const;
const KNOWN = new Set<string>([
  "name",
  ...TEXT_FIELDS.map(([key]) => key),
  ...NUMBER_FIELDS.map(([key]) => key),
  "onCritical",
  "webhookUrl",
  "topic",
  "topic.project",
  "topic.topic",
]);

function RuleForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
  idPrefix,
}: {
  initial: RuleDraft;
  submitLabel: string;
  onSubmit: (input: RuleFields) => Promise<CombinedError | undefined>;
  onCancel?: () => void;
  idPrefix: string;
}) {
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<CombinedError | undefined>(undefined);
  const [local, setLocal] = useState<Record<string, FieldProblem>>({});
  const [busy, setBusy] = useState(false);
  const problems = { ...fieldProblems(error), ...local };
  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) => setDraft((previous) => ({ ...previous, [key]: value }));
  const unmapped =
    error &&
    (error.networkError || error.graphQLErrors.some((e) => !KNOWN.has(String(e.extensions?.field ?? "").replace(/^input\./, ""))));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const checked = inputOf(draft);
    if ("problems" in checked) {
      setLocal(checked.problems);
      setError(undefined);
      return;
    }
    setLocal({});
    setBusy(true);
    const failed = await onSubmit(checked.input);
    setBusy(false);
    setError(failed);
    if (!failed && !onCancel) setDraft(EMPTY_RULE);
  };
  const check = (key: "onCritical" | "onRecovery" | "email" | "enabled", label: string) => (
    <label className="monitoring-inline">
      <input type="checkbox" name={key} checked={draft[key]} onChange={(e) => set(key, e.target.checked)} /> {label}
    </label>
  );
  return (
    <form className="monitoring-rule-form" onSubmit={(e) => void submit(e)} noValidate aria-label={submitLabel}>
      <FormField label="Name" name="name" value={draft.name} onChange={(v) => set("name", v)} problem={problems.name} isRequired />
      <fieldset>
        <legend>What it watches</legend>
        {TEXT_FIELDS.map(([key, label, hint]) => (
          <FormField
            key={key}
            label={label}
            name={`${idPrefix}-${key}`}
            value={draft[key]}
            onChange={(v) => set(key, v)}
            problem={problems[key]}
            description={hint}
          />
        ))}
      </fieldset>
      <fieldset>
        <legend>When it tells</legend>
        {check("onCritical", "On a change to CRITICAL")}
        {problems.onCritical ? (
          <p className="field-error" data-rule={problems.onCritical.rule ?? undefined} role="alert">
            {problems.onCritical.message}
          </p>
        ) : null}
        {check("onRecovery", "On recovery")}
        {NUMBER_FIELDS.map(([key, label, hint]) => (
          <FormField
            key={key}
            label={label}
            name={`${idPrefix}-${key}`}
            type="number"
            value={draft[key]}
            onChange={(v) => set(key, v)}
            problem={problems[key]}
            description={hint}
          />
        ))}
      </fieldset>
      <fieldset>
        <legend>Where to send it</legend>
        {check("email", "E-mail to my address")}
        <FormField
          label="Webhook URL"
          name={`${idPrefix}-webhookUrl`}
          type="url"
          value={draft.webhookUrl}
          onChange={(v) => set("webhookUrl", v)}
          problem={problems.webhookUrl}
          description="Each alert is POSTed here as JSON (https); empty: none"
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
      {check("enabled", "Enabled")}
      {unmapped && error ? <ErrorMessage error={error} /> : null}
      <div className="monitoring-form-buttons">
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

function States({ rule }: { rule: Rule }) {
  if (rule.states.length === 0) return <p className="empty">No endpoint watched by this rule has changed yet.</p>;
  return (
    <table className="monitoring-table" aria-label={`What ${rule.name} watches now`}>
      <thead>
        <tr>
          <th scope="col">Endpoint</th>
          <th scope="col">Status</th>
          <th scope="col">Failing metrics</th>
          <th scope="col">Since</th>
          <th scope="col">Told</th>
          <th scope="col">Flapping</th>
        </tr>
      </thead>
      <tbody>
        {rule.states.map((state) => (
          <tr key={`${state.hostname}/${state.serviceType}`}>
            <td>
              {state.hostname} ({state.serviceType})
            </td>
            <td>
              <StatusBadge status={state.status} />
            </td>
            <td>{failingMetrics(state.failingMetrics) || "—"}</td>
            <td>{formatMoment(state.since)}</td>
            <td>
              {state.problemSince ? (state.notified ? `yes, ${state.reminders} reminders` : "not yet") : "—"}
            </td>
            <td>{state.flapping ? `yes (${state.suppressed} notices held back)` : "no"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RuleCard({ rule }: { rule: Rule }) {
  const [editing, setEditing] = useState(false);
  const [, update] = useMutation(UpdateAlertRuleMutation);
  const [deleted, remove] = useMutation(DeleteAlertRuleMutation);
  const headingId = `rule-${rule.id}`;
  return (
    <article className="monitoring-rule" aria-labelledby={headingId} data-rule-name={rule.name}>
      <h3 id={headingId}>
        {rule.name} {rule.enabled ? null : <span className="monitoring-badge">(disabled)</span>}
      </h3>
      {editing ? (
        <RuleForm
          idPrefix={rule.id}
          initial={draftOf(rule)}
          submitLabel="Save rule"
          onCancel={() => setEditing(false)}
          onSubmit={async (input) => {
            const result = await update({ input: { id: rule.id, ...input } });
            if (!result.error) setEditing(false);
            return result.error;
          }}
        />
      ) : (
        <>
          <p>{describeRule(rule)}</p>
          <div className="monitoring-action-buttons">
            <button type="button" onClick={() => setEditing(true)}>
              Edit {rule.name}
            </button>
            <ConfirmButton
              label={`Delete ${rule.name}`}
              title={`Delete the alert rule ${rule.name}?`}
              confirmLabel="Delete"
              danger
              busy={deleted.fetching}
              onConfirm={() => void remove({ input: { id: rule.id } })}
            >
              <p>You will no longer be alerted by it.</p>
            </ConfirmButton>
          </div>
          {deleted.error ? <ErrorMessage error={deleted.error} /> : null}
        </>
      )}
      <h4>What it watches now</h4>
      <States rule={rule} />
    </article>
  );
}

function Rules() {
  const [after] = useCursor();
  const [result] = useQuery({ query: MyAlertRulesQuery, variables: { first: 50, after } });
  const [, create] = useMutation(CreateAlertRuleMutation);
  return (
    <>
      <section aria-labelledby="new-rule-title">
        <h2 id="new-rule-title">New alert rule</h2>
        <RuleForm
          idPrefix="new"
          initial={EMPTY_RULE}
          submitLabel="Create rule"
          onSubmit={async (input) => (await create({ input })).error}
        />
      </section>
      <section aria-labelledby="my-rules-title">
        <h2 id="my-rules-title">My alert rules</h2>
        <QueryState
          what="alert rules"
          fetching={result.fetching}
          error={result.error}
          data={result.data?.myAlertRules}
          isEmpty={(data) => data.nodes.length === 0}
          empty="You have no alert rules yet."
        >
          {(data) => (
            <>
              {data.nodes.map((rule) => (
                <RuleCard key={rule.id} rule={rule} />
              ))}
              <Pager page={data} what="alert rules" />
            </>
          )}
        </QueryState>
      </section>
    </>
  );
}

/** The signed-in user's alert rules: a site's or an NGI's administrators are told when its
 * services fail (an endpoint's status as a report combines its metrics, the failing ones named). */
export default function AlertRulesPage() {
  const [who] = useQuery({ query: AlertViewerQuery });
  return (
    <Page title="Alert rules">
      <p>
        Be alerted when the services of a site you administer, or of an NGI you manage, fail — each endpoint's status
        as a report combines its metrics, the failing metrics named: by e-mail, webhook or a messaging topic. A rule
        enabled again tells each endpoint not OK then once, nothing of what changed meanwhile. The live status is on
        each <Link to="/sites">site</Link>'s page.
      </p>
      <QueryState what="your identity" fetching={who.fetching} error={who.error} data={who.data}>
        {(data) => (data.viewer ? <Rules /> : <SignInNotice>Sign in to manage your alert rules.</SignInNotice>)}
      </QueryState>
    </Page>
  );
}
