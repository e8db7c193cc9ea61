import { useState, type FormEvent } from "react";
import { Button, Form, Label, ListBox, ListBoxItem, Popover, Radio, RadioGroup, Select, SelectValue } from "react-aria-components";
import { useSearchParams } from "react-router";
import { useQuery } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { Pager, PAGE_SIZE } from "../../components/Pager";
import { ErrorMessage, Loading, QueryState } from "../../components/QueryState";
import { fieldProblems } from "../../graphql/errors";
import { graphql } from "../../gql";
import { diffRows, formatTime, isoToUtcInput, kindLabel, utcInputToIso, type EntityKind } from "./format";
import { EntityPicker, SignInNeeded } from "./parts";

const Changes = graphql(`
  query AccountChanges($filter: ChangeFilter, $first: Int, $after: String, $order: ChangeOrder!) {
    changes(filter: $filter, first: $first, after: $after, order: $order) {
      nodes {
        id
        at
        actor
        action
        entityType
        entityName
        entityId
        changes
        reason
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
`);

// the kinds of things the audit trail records (its entity_type column)
export const CHANGE_ENTITY_TYPES: { id: string; label: string }[] = [
  { id: "project", label: "Project" },
  { id: "ngi", label: "NGI" },
  { id: "site", label: "Site" },
  { id: "service", label: "Service" },
  { id: "endpoint", label: "Endpoint" },
  { id: "service_group", label: "Service group" },
  { id: "downtime", label: "Downtime" },
  { id: "downtime_subscription", label: "Downtime subscription" },
  { id: "user", label: "User" },
  { id: "api_token", label: "API token" },
  { id: "msg_project", label: "Messaging project" },
  { id: "msg_topic", label: "Messaging topic" },
  { id: "msg_subscription", label: "Messaging subscription" },
  { id: "country", label: "Country" },
  { id: "scope", label: "Scope" },
  { id: "service_type", label: "Service type" },
];
const PICKABLE: readonly string[] = ["site", "ngi", "project", "service_group"];
const FILTER_KEYS = ["entityType", "entity", "actor", "since", "until"] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Filters = Record<FilterKey, string>;

/** The filter as the URL holds it (`?entityType=site&entity=…&actor=…&since=…&until=…`). */
export function filtersFromParams(params: URLSearchParams): Filters {
  return Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) ?? ""])) as Filters;
}

/** The URL's filter as the API's ChangeFilter (null when nothing is filtered). */
export function changeFilter(filters: Filters): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const key of FILTER_KEYS) if (filters[key]) out[key] = filters[key];
  return Object.keys(out).length ? out : null;
}

export type ChangeOrder = "NEWEST_FIRST" | "OLDEST_FIRST";

/** The order the URL asks for: newest first unless `?order=oldest`. */
export function orderFromParams(params: URLSearchParams): ChangeOrder {
  return params.get("order") === "oldest" ? "OLDEST_FIRST" : "NEWEST_FIRST";
}

/** The URL for another order: the same filters, from the first page. */
export function paramsWithOrder(params: URLSearchParams, order: ChangeOrder): URLSearchParams {
  const copy = new URLSearchParams(params);
  copy.delete("after");
  if (order === "OLDEST_FIRST") copy.set("order", "oldest");
  else copy.delete("order");
  return copy;
}

const Who = graphql(`
  query AccountChangesViewer {
    viewer {
      subject
    }
  }
`);

export default function ChangesPage() {
  const [{ data, fetching, error }] = useQuery({ query: Who });
  return (
    <Page title="Change log">
      {fetching && !data ? (
        <Loading what="the change log" />
      ) : error && !data ? (
        <ErrorMessage error={error} />
      ) : !data?.viewer ? (
        <SignInNeeded what="the change log (what you may read of it)" />
      ) : (
        <ChangeLog />
      )}
    </Page>
  );
}

function ChangeLog() {
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  const after = params.get("after");
  const order = orderFromParams(params);
  const [{ data, fetching, error }] = useQuery({
    query: Changes,
    variables: { filter: changeFilter(filters), first: PAGE_SIZE, after, order },
  });

  const apply = (next: Filters) => {
    const copy = new URLSearchParams();
    for (const key of FILTER_KEYS) if (next[key]) copy.set(key, next[key]);
    setParams(paramsWithOrder(copy, order));
  };

  const problems = fieldProblems(error);
  return (
    <>
      <ChangeFilters key={params.toString()} initial={filters} onApply={apply} problems={problems} />
      <RadioGroup
        className="account-order"
        orientation="horizontal"
        value={order}
        onChange={(value) => setParams(paramsWithOrder(params, value as ChangeOrder))}
      >
        <Label>Order</Label>
        <Radio value="NEWEST_FIRST">Newest first</Radio>
        <Radio value="OLDEST_FIRST">Oldest first</Radio>
      </RadioGroup>
      <QueryState
        what="changes"
        fetching={fetching}
        error={error}
        data={data?.changes}
        isEmpty={(page) => page.nodes.length === 0}
        empty="No change matches these filters."
      >
        {(page) => (
          <>
            <ol className="account-changes">
              {page.nodes.map((change) => (
                <li key={change.id} className="account-change" data-testid="change">
                  <article aria-labelledby={`change-${change.id}`}>
                    <h2 id={`change-${change.id}`} className="account-change-title">
                      <code>{change.action}</code> — {kindLabel(change.entityType)} {change.entityName}
                    </h2>
                    <p className="account-change-meta">
                      by{" "}
                      <button type="button" className="account-link-button" onClick={() => apply({ ...filters, actor: change.actor })}>
                        {change.actor}
                        <span className="visually-hidden"> (show only their changes)</span>
                      </button>{" "}
                      at <time dateTime={change.at}>{formatTime(change.at)}</time>
                    </p>
                    {change.reason ? <p className="account-change-reason">Reason: {change.reason}</p> : null}
                    <Diff changes={change.changes} id={change.id} />
                  </article>
                </li>
              ))}
            </ol>
            <Pager page={page} what="changes" />
          </>
        )}
      </QueryState>
    </>
  );
}

function Diff({ changes, id }: { changes: unknown; id: string }) {
  const rows = diffRows(changes);
  if (rows.length === 0) return null;
  return (
    <table className="account-diff" aria-label="What changed" data-change={id}>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.field}>
            <th scope="row">{row.field}</th>
            <td>{row.before}</td>
            <td>{row.after}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ChangeFilters({
  initial,
  onApply,
  problems,
}: {
  initial: Filters;
  onApply: (filters: Filters) => void;
  problems: ReturnType<typeof fieldProblems>;
}) {
  const [entityType, setEntityType] = useState(initial.entityType);
  const [entity, setEntity] = useState<string | null>(initial.entity || null);
  const [actor, setActor] = useState(initial.actor);
  const [since, setSince] = useState(isoToUtcInput(initial.since));
  const [until, setUntil] = useState(isoToUtcInput(initial.until));
  const [bad, setBad] = useState<Partial<Record<"since" | "until", string>>>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const sinceIso = since ? utcInputToIso(since) : "";
    const untilIso = until ? utcInputToIso(until) : "";
    const wrong: Partial<Record<"since" | "until", string>> = {};
    if (sinceIso === null) wrong.since = "A date and time, e.g. 2026-01-31T14:00.";
    if (untilIso === null) wrong.until = "A date and time, e.g. 2026-01-31T14:00.";
    setBad(wrong);
    if (Object.keys(wrong).length) return;
    onApply({
      entityType,
      entity: PICKABLE.includes(entityType) || !entityType ? (entity ?? "") : "",
      actor: actor.trim(),
      since: sinceIso ?? "",
      until: untilIso ?? "",
    });
  };

  const problem = (name: "since" | "until") =>
    bad[name] ? { field: name, rule: null, message: bad[name] } : problems[`filter.${name}`];

  return (
    <Form className="account-form account-filters" aria-label="Filter the change log" onSubmit={submit} validationBehavior="aria">
      <Select
        className="account-select"
        selectedKey={entityType || "any"}
        onSelectionChange={(key) => {
          setEntityType(key === "any" || key === null ? "" : String(key));
          setEntity(null);
        }}
      >
        <Label>Kind of entity</Label>
        <Button>
          <SelectValue />
          <span aria-hidden="true"> ▾</span>
        </Button>
        <Popover>
          <ListBox>
            <ListBoxItem id="any">Any</ListBoxItem>
            {CHANGE_ENTITY_TYPES.map((t) => (
              <ListBoxItem key={t.id} id={t.id}>
                {t.label}
              </ListBoxItem>
            ))}
          </ListBox>
        </Popover>
      </Select>
      {PICKABLE.includes(entityType) ? (
        <EntityPicker
          kind={entityType as EntityKind}
          label={`Only this ${kindLabel(entityType).toLowerCase()}`}
          selected={entity}
          onChange={setEntity}
          problem={problems["filter.entity"]}
        />
      ) : null}
      {entity && !PICKABLE.includes(entityType) ? (
        <p className="account-one-entity">
          Only the changes of one entity (from the link you followed).{" "}
          <Button onPress={() => setEntity(null)}>Any entity</Button>
        </p>
      ) : null}
      <FormField label="Changed by (subject)" name="actor" value={actor} onChange={setActor} problem={problems["filter.actor"]} />
      <FormField label="Since (UTC)" name="since" type="datetime-local" value={since} onChange={setSince} problem={problem("since")} />
      <FormField label="Until (UTC)" name="until" type="datetime-local" value={until} onChange={setUntil} problem={problem("until")} />
      <div className="account-form-buttons">
        <Button type="submit" className="react-aria-Button primary">
          Apply filters
        </Button>
        <Button
          onPress={() => onApply({ entityType: "", entity: "", actor: "", since: "", until: "" })}
        >
          Clear filters
        </Button>
      </div>
    </Form>
  );
}
