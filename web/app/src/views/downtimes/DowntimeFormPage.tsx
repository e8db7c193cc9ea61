import { useEffect, useMemo, useState, type FormEvent } from "react";
import {
  Button,
  ComboBox,
  Input,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  Radio,
  RadioGroup,
  Text,
} from "react-aria-components";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { ErrorMessage, Loading, QueryState } from "../../components/QueryState";
import type { DowntimeDetailsQuery as DetailsResult } from "../../gql/graphql";
import { fieldProblems, type FieldProblem } from "../../graphql/errors";
import { classify, parseLocalDateTime, toLocalDateTime, type Classification } from "./classification";
import { useNow } from "./useNow";
import { downtimePath, SEVERITY_WORDS } from "./format";
import {
  DeclareDowntimeMutation,
  DeclareDowntimesMutation,
  DowntimeDetailsQuery,
  SiteServicesQuery,
  UpdateDowntimeMutation,
} from "./operations";
import { useSites, type PickableSite } from "./useDeclarableSites";

type Existing = NonNullable<DetailsResult["downtime"]>;
type Severity = "OUTAGE" | "WARNING";

/** The fields the server names in its BAD_USER_INPUT errors, as the form shows them. */
const FORM_FIELDS = ["serviceIds", "endpointIds", "startsAt", "endsAt", "description", "severity"] as const;

interface Choice {
  serviceIds: string[];
  endpointIds: string[];
}

function Problem({ problem, id }: { problem?: FieldProblem; id: string }) {
  if (!problem) return null;
  return (
    <p className="field-error" id={id} data-rule={problem.rule ?? undefined} role="alert">
      {problem.message}
    </p>
  );
}

/** The live SCHEDULED/UNSCHEDULED preview of the 24-hour rule, as the start is typed. */
export function ClassificationPreview({ start, now }: { start: string; now: Date }) {
  const moment = parseLocalDateTime(start);
  const value: Classification | null = moment ? classify(moment, now) : null;
  return (
    <p className="downtimes-preview" aria-live="polite" data-testid="classification-preview" data-value={value ?? ""}>
      {value === null ? (
        "Type a start time to see whether the downtime will be SCHEDULED or UNSCHEDULED."
      ) : (
        <>
          Will be <strong className={`downtimes-class-${value.toLowerCase()}`}>{value}</strong>
          {value === "SCHEDULED" ? ": it starts more than 24 hours from now." : ": it starts within 24 hours from now (or earlier)."}{" "}
          The server decides when you save, by the same rule and its own clock.
        </>
      )}
    </p>
  );
}

function SitePicker({ sites, chosen, onAdd }: { sites: PickableSite[]; chosen: string[]; onAdd: (site: string) => void }) {
  // a new picker after each choice: empty and closed, and focused again for the next one
  const [added, setAdded] = useState(0);
  const available = sites.filter((site) => site.canDeclare && !chosen.includes(site.shortName));
  return (
    <ComboBox
      key={added}
      className="downtimes-combo"
      items={available}
      selectedKey={null}
      autoFocus={added > 0}
      onSelectionChange={(key) => {
        if (key !== null) {
          onAdd(String(key));
          setAdded((n) => n + 1);
        }
      }}
    >
      <Label>{chosen.length ? "Add another site" : "Site"}</Label>
      <div className="downtimes-combo-row">
        <Input />
        <Button aria-label="Show the sites">▾</Button>
      </div>
      <Text slot="description">The sites where you may declare downtimes. Several sites: one downtime each, all or none.</Text>
      <Popover>
        <ListBox<PickableSite>>
          {(site) => (
            <ListBoxItem id={site.shortName} textValue={site.shortName}>
              {site.shortName} ({site.ngi})
            </ListBoxItem>
          )}
        </ListBox>
      </Popover>
    </ComboBox>
  );
}

function SiteServices({
  site,
  choice,
  onChange,
  onRemove,
}: {
  site: string;
  choice: Choice;
  onChange: (next: Choice) => void;
  onRemove?: () => void;
}) {
  const [result] = useQuery({ query: SiteServicesQuery, variables: { shortName: site } });
  const toggleService = (id: string, endpointIds: string[], on: boolean) =>
    onChange({
      serviceIds: on ? [...choice.serviceIds, id] : choice.serviceIds.filter((s) => s !== id),
      endpointIds: on ? choice.endpointIds : choice.endpointIds.filter((e) => !endpointIds.includes(e)),
    });
  const toggleEndpoint = (id: string, on: boolean) =>
    onChange({ ...choice, endpointIds: on ? [...choice.endpointIds, id] : choice.endpointIds.filter((e) => e !== id) });
  return (
    <fieldset className="downtimes-site-services" data-site={site}>
      <legend>Services of {site}</legend>
      {onRemove ? (
        <button type="button" onClick={onRemove} aria-label={`Remove ${site}`}>
          Remove {site}
        </button>
      ) : null}
      <QueryState what={`services of ${site}`} fetching={result.fetching} error={result.error} data={result.data?.site}>
        {(found) => (
          <>
            <button
              type="button"
              onClick={() => onChange({ serviceIds: found.services.map((s) => s.id), endpointIds: [] })}
            >
              All services of {site}
            </button>
            <ul className="downtimes-service-list">
              {found.services.map((service) => {
                const checked = choice.serviceIds.includes(service.id);
                return (
                  <li key={service.id}>
                    <label className="downtimes-inline">
                      <input
                        type="checkbox"
                        name="serviceIds"
                        value={service.id}
                        checked={checked}
                        onChange={(e) =>
                          toggleService(
                            service.id,
                            service.endpoints.map((p) => p.id),
                            e.target.checked,
                          )
                        }
                      />{" "}
                      {service.hostName} ({service.serviceType})
                    </label>
                    {checked && service.endpoints.length > 0 ? (
                      <fieldset className="downtimes-endpoints">
                        <legend>
                          Endpoints of {service.hostName} ({service.serviceType}): none chosen means all
                        </legend>
                        {service.endpoints.map((endpoint) => (
                          <label key={endpoint.id} className="downtimes-inline">
                            <input
                              type="checkbox"
                              name="endpointIds"
                              value={endpoint.id}
                              checked={choice.endpointIds.includes(endpoint.id)}
                              onChange={(e) => toggleEndpoint(endpoint.id, e.target.checked)}
                            />{" "}
                            {endpoint.name} ({endpoint.interfaceName})
                          </label>
                        ))}
                      </fieldset>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          </>
        )}
      </QueryState>
    </fieldset>
  );
}

/** Errors the form cannot put beside a field (FORBIDDEN, a rule about the downtime as a
 * whole such as DOWNTIME_SCHEDULED_LOCKED, network failures). */
function otherProblems(error: CombinedError | undefined): CombinedError | undefined {
  if (!error) return undefined;
  const mapped = fieldProblems(error);
  const rest = error.graphQLErrors.filter((problem) => {
    const field = typeof problem.extensions?.field === "string" ? problem.extensions.field.replace(/^input\./, "") : "";
    return !(field in mapped && (FORM_FIELDS as readonly string[]).includes(field));
  });
  return rest.length || error.networkError ? error : undefined;
}

function DowntimeForm({ existing, initialSite }: { existing?: Existing; initialSite: string | null }) {
  const navigate = useNavigate();
  const now = useNow(15_000);
  const { sites, error: sitesError } = useSites(!existing);
  const [chosenSites, setChosenSites] = useState<string[]>(() =>
    existing ? [existing.site.shortName] : initialSite ? [initialSite] : [],
  );
  const [choices, setChoices] = useState<Record<string, Choice>>(() =>
    existing
      ? {
          [existing.site.shortName]: {
            serviceIds: existing.affectedServices.map((a) => a.service.id),
            endpointIds: existing.endpoints.map((e) => e.id),
          },
        }
      : {},
  );
  const [severity, setSeverity] = useState<Severity>((existing?.severity as Severity | undefined) ?? "OUTAGE");
  const [start, setStart] = useState(existing ? toLocalDateTime(new Date(existing.startsAt)) : "");
  const [end, setEnd] = useState(existing ? toLocalDateTime(new Date(existing.endsAt)) : "");
  const [description, setDescription] = useState(existing?.description ?? "");
  const [local, setLocal] = useState<Record<string, FieldProblem>>({});

  const [declaredOne, declareOne] = useMutation(DeclareDowntimeMutation);
  const [declaredMany, declareMany] = useMutation(DeclareDowntimesMutation);
  const [updated, update] = useMutation(UpdateDowntimeMutation);
  const [lastError, setLastError] = useState<CombinedError | undefined>(undefined);
  const fetching = declaredOne.fetching || declaredMany.fetching || updated.fetching;
  const problems = { ...fieldProblems(lastError), ...local };

  // a preselected site (?site=) the viewer may not declare on is said in words
  const refusedSite = useMemo(
    () =>
      !existing && initialSite && sites
        ? sites.find((s) => s.shortName === initialSite)?.canDeclare
          ? null
          : initialSite
        : null,
    [existing, initialSite, sites],
  );
  useEffect(() => {
    if (refusedSite) setChosenSites((previous) => previous.filter((s) => s !== refusedSite));
  }, [refusedSite]);

  const serviceIds = chosenSites.flatMap((site) => choices[site]?.serviceIds ?? []);
  const endpointIds = chosenSites.flatMap((site) => choices[site]?.endpointIds ?? []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const startsAt = parseLocalDateTime(start);
    const endsAt = parseLocalDateTime(end);
    const missing: Record<string, FieldProblem> = {};
    // only "is it a time at all": every rule about the times is the server's
    if (!startsAt) missing.startsAt = { field: "input.startsAt", rule: null, message: "Enter a start date and time." };
    if (!endsAt) missing.endsAt = { field: "input.endsAt", rule: null, message: "Enter an end date and time." };
    setLocal(missing);
    if (!startsAt || !endsAt) return;
    if (existing) {
      const input: Parameters<typeof update>[0]["input"] = { id: existing.id };
      if (severity !== existing.severity) input.severity = severity;
      // unchanged times are left out: a changed start must be in the future
      if (start !== toLocalDateTime(new Date(existing.startsAt))) input.startsAt = startsAt.toISOString();
      if (end !== toLocalDateTime(new Date(existing.endsAt))) input.endsAt = endsAt.toISOString();
      if (description !== existing.description) input.description = description;
      const oldServices = existing.affectedServices.map((a) => a.service.id).sort().join();
      const oldEndpoints = existing.endpoints.map((e) => e.id).sort().join();
      if ([...serviceIds].sort().join() !== oldServices || [...endpointIds].sort().join() !== oldEndpoints) {
        input.serviceIds = serviceIds;
        input.endpointIds = endpointIds;
      }
      const result = await update({ input });
      setLastError(result.error);
      if (result.data) void navigate(downtimePath(existing.id));
      return;
    }
    const input = {
      serviceIds,
      endpointIds,
      severity,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      description,
    };
    if (chosenSites.length > 1) {
      const result = await declareMany({ input });
      setLastError(result.error);
      if (result.data) {
        const names = result.data.declareDowntimes.downtimes.map((d) => d.site.shortName);
        void navigate(`/downtimes?site=${encodeURIComponent(names.join(","))}`);
      }
    } else {
      const result = await declareOne({ input });
      setLastError(result.error);
      if (result.data) void navigate(downtimePath(result.data.declareDowntime.downtime.id));
    }
  };

  const general = otherProblems(lastError);
  const offset = -new Date().getTimezoneOffset() / 60;
  const zone = `your time zone, UTC${offset >= 0 ? "+" : ""}${offset}`;

  if (!existing && sites !== null && !sites.some((site) => site.canDeclare)) {
    return (
      <div className="notice" role="note">
        {refusedSite ? <p>You may not declare downtimes on {refusedSite}, or it does not exist.</p> : null}
        <p>
          You may declare downtimes on no site: that needs a role over the site, such as Site Administrator (see{" "}
          <Link to="/roles">Roles</Link>).
        </p>
      </div>
    );
  }

  return (
    <form className="downtimes-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Downtime">
      {!existing ? (
        sites === null ? (
          sitesError ? (
            <p className="error" role="alert">
              The sites could not be loaded: {sitesError}
            </p>
          ) : (
            <Loading what="sites" />
          )
        ) : (
          <>
            {refusedSite ? (
              <p className="notice" role="note">
                You may not declare downtimes on {refusedSite}, or it does not exist.
              </p>
            ) : null}
            <SitePicker sites={sites} chosen={chosenSites} onAdd={(site) => setChosenSites((p) => [...p, site])} />
          </>
        )
      ) : null}
      {chosenSites.map((site) => (
        <SiteServices
          key={site}
          site={site}
          choice={choices[site] ?? { serviceIds: [], endpointIds: [] }}
          onChange={(next) => setChoices((previous) => ({ ...previous, [site]: next }))}
          onRemove={existing ? undefined : () => setChosenSites((previous) => previous.filter((s) => s !== site))}
        />
      ))}
      <Problem problem={problems.serviceIds} id="problem-serviceIds" />
      <Problem problem={problems.endpointIds} id="problem-endpointIds" />

      <RadioGroup
        className="downtimes-radios"
        value={severity}
        onChange={(value) => setSeverity(value as Severity)}
        isInvalid={problems.severity !== undefined}
      >
        <Label>Severity</Label>
        {(["OUTAGE", "WARNING"] as const).map((value) => (
          <Radio key={value} value={value}>
            {SEVERITY_WORDS[value]}
          </Radio>
        ))}
      </RadioGroup>
      <Problem problem={problems.severity} id="problem-severity" />

      <FormField
        label={`Start (${zone})`}
        name="startsAt"
        type="datetime-local"
        value={start}
        onChange={setStart}
        problem={problems.startsAt}
        isRequired
      />
      <ClassificationPreview start={start} now={now} />
      <FormField
        label={`End (${zone})`}
        name="endsAt"
        type="datetime-local"
        value={end}
        onChange={setEnd}
        problem={problems.endsAt}
        isRequired
      />
      <FormField
        label="Description"
        name="description"
        value={description}
        onChange={setDescription}
        problem={problems.description}
        description="What is down and why; at most 4000 characters, no quotes, backticks, ';', '<' or '>'."
        multiline
        isRequired
      />
      {general ? <ErrorMessage error={general} /> : null}
      <div className="downtimes-form-buttons">
        <button type="submit" className="primary" disabled={fetching}>
          {existing ? "Save changes" : chosenSites.length > 1 ? `Declare ${chosenSites.length} downtimes` : "Declare downtime"}
        </button>
        <Link to={existing ? downtimePath(existing.id) : "/downtimes"}>Cancel</Link>
      </div>
    </form>
  );
}

export default function DowntimeFormPage() {
  const { id } = useParams();
  const [params] = useSearchParams();
  if (!id) {
    return (
      <Page title="Declare a downtime">
        <DowntimeForm initialSite={params.get("site")} />
      </Page>
    );
  }
  return <EditDowntime id={id} />;
}

function EditDowntime({ id }: { id: string }) {
  const [result] = useQuery({ query: DowntimeDetailsQuery, variables: { id }, requestPolicy: "network-only" });
  return (
    <Page title="Edit downtime">
      <QueryState what="downtime" fetching={result.fetching} error={result.error} data={result.data?.downtime}>
        {(downtime) =>
          downtime.viewerCanEdit ? (
            <DowntimeForm existing={downtime} initialSite={null} />
          ) : (
            <p className="notice" role="note">
              You may not edit this downtime. <Link to={downtimePath(downtime.id)}>Back to the downtime</Link>
            </p>
          )
        }
      </QueryState>
    </Page>
  );
}
