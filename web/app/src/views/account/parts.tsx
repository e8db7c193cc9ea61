// Pieces the account views share: the sign-in notice and a searchable picker of the entities roles are held over (and the change log filters by).
import { useEffect, useState } from "react";
import {
  Button,
  ComboBox,
  FieldError,
  Input,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  Text,
} from "react-aria-components";
import { useClient } from "urql";
import { SignInNotice } from "../../components/SignInNotice";
import { fetchAllPages, type PageOf } from "../../graphql/allPages";
import type { FieldProblem } from "../../graphql/errors";
import { graphql } from "../../gql";
import type { EntityKind } from "./format";

/** What an anonymous visitor sees instead of a view that needs to know who they are. */
export function SignInNeeded({ what }: { what: string }) {
  return <SignInNotice className="account-sign-in">Please sign in to see {what}.</SignInNotice>;
}

const PickSites = graphql(`
  query AccountPickSites($after: String) {
    sites(filter: { scopes: [] }, first: 100, after: $after) {
      nodes {
        id
        shortName
        officialName
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const PickNgis = graphql(`
  query AccountPickNgis($after: String) {
    ngis(scopes: [], first: 100, after: $after) {
      nodes {
        id
        name
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const PickProjects = graphql(`
  query AccountPickProjects($after: String) {
    projects(first: 100, after: $after) {
      nodes {
        id
        name
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const PickServiceGroups = graphql(`
  query AccountPickServiceGroups($after: String) {
    serviceGroups(filter: { scopes: [] }, first: 100, after: $after) {
      nodes {
        id
        name
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export interface EntityOption {
  id: string;
  name: string;
  detail?: string;
}

// at most this many pages of 100 are loaded for a picker; typing narrows the list
const MAX_PAGES = 50;

/** Every entity of a kind (all scopes), loaded page after page, for a picker. */
function useEntities(kind: EntityKind | null): { options: EntityOption[]; loading: boolean; error: string | null } {
  const client = useClient();
  const [state, setState] = useState<{ kind: EntityKind | null; options: EntityOption[]; loading: boolean; error: string | null }>({
    kind: null,
    options: [],
    loading: false,
    error: null,
  });
  useEffect(() => {
    if (kind === null) return;
    let live = true;
    setState({ kind, options: [], loading: true, error: null });
    const fetchPage = async (after: string | null): Promise<PageOf<EntityOption>> => {
      const variables = { after };
      if (kind === "site") {
        const result = await client.query(PickSites, variables).toPromise();
        if (result.error || !result.data) throw new Error(result.error?.message ?? "no answer");
        const page = result.data.sites;
        return {
          nodes: page.nodes.map((s) => ({ id: s.id, name: s.shortName, detail: s.officialName ?? undefined })),
          pageInfo: page.pageInfo,
        };
      }
      if (kind === "ngi") {
        const result = await client.query(PickNgis, variables).toPromise();
        if (result.error || !result.data) throw new Error(result.error?.message ?? "no answer");
        return result.data.ngis;
      }
      if (kind === "project") {
        const result = await client.query(PickProjects, variables).toPromise();
        if (result.error || !result.data) throw new Error(result.error?.message ?? "no answer");
        return result.data.projects;
      }
      const result = await client.query(PickServiceGroups, variables).toPromise();
      if (result.error || !result.data) throw new Error(result.error?.message ?? "no answer");
      return result.data.serviceGroups;
    };
    void (async () => {
      const found: EntityOption[] = [];
      try {
        await fetchAllPages(fetchPage, { maxPages: MAX_PAGES, found });
        if (live) setState({ kind, options: found, loading: false, error: null });
      } catch (error) {
        if (live) setState({ kind, options: found, loading: false, error: (error as Error).message });
      }
    })();
    return () => {
      live = false;
    };
  }, [client, kind]);
  if (kind === null || state.kind !== kind) return { options: [], loading: kind !== null, error: null };
  return state;
}

/** A ComboBox of the entities of one kind: type to search by name, pick with keyboard or
 * mouse. `selected` is the entity's global id. */
export function EntityPicker({
  kind,
  label,
  selected,
  onChange,
  problem,
  name,
}: {
  kind: EntityKind | null;
  label: string;
  selected: string | null;
  onChange: (id: string | null) => void;
  problem?: FieldProblem;
  name?: string;
}) {
  const { options, loading, error } = useEntities(kind);
  return (
    <ComboBox
      className="account-picker"
      name={name}
      defaultItems={options}
      selectedKey={selected}
      onSelectionChange={(key) => onChange(key === null ? null : String(key))}
      isDisabled={kind === null}
      isInvalid={problem !== undefined}
      validationBehavior="aria"
      menuTrigger="focus"
      allowsEmptyCollection
    >
      <Label>{label}</Label>
      <div className="account-picker-input">
        <Input placeholder={loading ? "Loading…" : "Type to search"} />
        <Button aria-label={`Show ${label.toLowerCase()} choices`}>▾</Button>
      </div>
      {error ? (
        <Text slot="description" className="field-error">
          The list could not be loaded: {error}
        </Text>
      ) : null}
      <FieldError className="field-error" data-rule={problem?.rule ?? undefined}>
        {problem?.message}
      </FieldError>
      <Popover className="react-aria-Popover account-picker-popover">
        <ListBox<EntityOption> renderEmptyState={() => <p className="empty">{loading ? "Loading…" : "Nothing matches."}</p>}>
          {(item) => (
            <ListBoxItem id={item.id} textValue={item.name}>
              {item.name}
              {item.detail ? <span className="account-muted"> — {item.detail}</span> : null}
            </ListBoxItem>
          )}
        </ListBox>
      </Popover>
    </ComboBox>
  );
}
