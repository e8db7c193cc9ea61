// The sites filter as a form, read from and written to the URL (filters.ts): the map and the
// sites list share it, so a filtered view is a link.
import { useEffect, useState } from "react";
import {
  Button,
  Checkbox,
  CheckboxGroup,
  Input,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  Radio,
  RadioGroup,
  Select,
  SelectValue,
  Text,
  TextField,
} from "react-aria-components";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";
import { graphql } from "../../gql";
import { INFRASTRUCTURES, STATUSES, splitList, withFilter } from "./filters";
import { statusLabel } from "./status";

const FilterChoicesQuery = graphql(`
  query TopologyFilterChoices {
    ngis(first: 100) {
      nodes {
        id
        name
      }
    }
    scopes(first: 100) {
      nodes {
        id
        name
      }
    }
  }
`);

function CheckboxItem({ value, children }: { value: string; children: string }) {
  return (
    <Checkbox value={value} className="topology-check">
      <span className="topology-check-box" aria-hidden="true" />
      {children}
    </Checkbox>
  );
}

export function SiteFilterForm({ showInfrastructure = true }: { showInfrastructure?: boolean }) {
  const [params, setParams] = useSearchParams();
  const [{ data }] = useQuery({ query: FilterChoicesQuery });
  const countryInUrl = params.getAll("country").join(", ");
  const [country, setCountry] = useState(countryInUrl);
  useEffect(() => setCountry(countryInUrl), [countryInUrl]);

  const set = (name: Parameters<typeof withFilter>[1], next: string | string[]) =>
    setParams(withFilter(params, name, next));
  // typed countries apply on Enter or on leaving the field, and only when they changed (so
  // tabbing through the form neither adds history entries nor leaves the current page)
  const applyCountry = () => {
    const typed = splitList(country);
    if (typed.join(",") !== splitList(countryInUrl).join(",")) set("country", typed);
  };
  const ngis = params.getAll("ngi");
  const scopes = params.getAll("scope");
  const infra = params.get("infra") ?? "";

  return (
    <form
      className="topology-filters"
      aria-label="Filter sites"
      onSubmit={(event) => {
        event.preventDefault();
        applyCountry();
      }}
    >
      <Select
        className="topology-select"
        selectionMode="multiple"
        value={ngis}
        onChange={(keys) => set("ngi", keys.map(String))}
        placeholder="Any NGI"
      >
        <Label>NGI</Label>
        <Button>
          <SelectValue />
          <span aria-hidden="true"> ▾</span>
        </Button>
        <Popover>
          <ListBox>
            {(data?.ngis.nodes ?? []).map((ngi) => (
              <ListBoxItem key={ngi.id} id={ngi.name} textValue={ngi.name}>
                {ngi.name}
              </ListBoxItem>
            ))}
          </ListBox>
        </Popover>
      </Select>

      <div className="topology-country">
        <TextField value={country} onChange={setCountry} onBlur={applyCountry}>
          <Label>Country</Label>
          <Input />
          <Text slot="description">ISO codes or names, comma-separated; Enter applies</Text>
        </TextField>
      </div>

      <CheckboxGroup
        className="topology-checks"
        value={params.getAll("status").map((s) => s.toUpperCase())}
        onChange={(next) => set("status", next)}
      >
        <Label>Certification status</Label>
        {STATUSES.map((status) => (
          <CheckboxItem key={status} value={status}>
            {statusLabel(status)}
          </CheckboxItem>
        ))}
      </CheckboxGroup>

      {showInfrastructure ? (
        <Select
          className="topology-select"
          value={infra === "" ? "ANY" : infra.toUpperCase()}
          onChange={(key) => set("infra", key === "ANY" || key === null ? "" : String(key))}
        >
          <Label>Infrastructure</Label>
          <Button>
            <SelectValue />
            <span aria-hidden="true"> ▾</span>
          </Button>
          <Popover>
            <ListBox>
              <ListBoxItem id="ANY">Any</ListBoxItem>
              {INFRASTRUCTURES.map((value) => (
                <ListBoxItem key={value} id={value}>
                  {value === "PRODUCTION" ? "Production" : "Test"}
                </ListBoxItem>
              ))}
            </ListBox>
          </Popover>
        </Select>
      ) : null}

      <CheckboxGroup className="topology-checks" value={scopes} onChange={(next) => set("scope", next)}>
        <Label>Scopes</Label>
        {(data?.scopes.nodes ?? []).map((scope) => (
          <CheckboxItem key={scope.id} value={scope.name}>
            {scope.name}
          </CheckboxItem>
        ))}
        <Text slot="description">None ticked: the instance's default scopes</Text>
      </CheckboxGroup>

      <RadioGroup
        className="topology-checks"
        value={(params.get("scopeMatch") ?? "ANY").toUpperCase()}
        onChange={(value) => set("scopeMatch", value === "ANY" ? "" : value)}
        isDisabled={scopes.length < 2}
      >
        <Label>Scope match</Label>
        <Radio value="ANY" className="topology-check">
          <span className="topology-check-box topology-radio" aria-hidden="true" />
          Any of them
        </Radio>
        <Radio value="ALL" className="topology-check">
          <span className="topology-check-box topology-radio" aria-hidden="true" />
          All of them
        </Radio>
      </RadioGroup>

      <div className="topology-filter-actions">
        <button type="submit">Apply</button>
        <Link to={{ search: "" }}>Clear filters</Link>
      </div>
    </form>
  );
}
