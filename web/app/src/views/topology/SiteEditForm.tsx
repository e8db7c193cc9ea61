import { useState } from "react";
import { Form } from "react-aria-components";
import { useMutation } from "urql";
import { FormField } from "../../components/FormField";
import { ErrorMessage } from "../../components/QueryState";
import { graphql } from "../../gql";
import type { UpdateSiteInput } from "../../gql/graphql";
import { fieldProblems } from "../../graphql/errors";

const UpdateSite = graphql(`
  mutation TopologyUpdateSite($input: UpdateSiteInput!) {
    updateSite(input: $input) {
      site {
        id
        officialName
        description
        domain
        homeUrl
        timezone
        latitude
        longitude
        email
        telephone
      }
    }
  }
`);

export interface EditableSite {
  id: string;
  officialName: string | null;
  description: string;
  domain: string | null;
  homeUrl: string | null;
  timezone: string | null;
  latitude: number | null;
  longitude: number | null;
  email: string | null;
  telephone: string | null;
}

type TextKey = "officialName" | "description" | "domain" | "homeUrl" | "timezone" | "email" | "telephone";
const TEXT_FIELDS: { key: TextKey; label: string; type?: "email" | "url"; multiline?: boolean }[] = [
  { key: "officialName", label: "Official name" },
  { key: "description", label: "Description", multiline: true },
  { key: "domain", label: "Domain" },
  { key: "homeUrl", label: "Home page", type: "url" },
  { key: "timezone", label: "Time zone (IANA)" },
  { key: "email", label: "Contact e-mail", type: "email" },
  { key: "telephone", label: "Telephone" },
];

const text = (value: string | number | null | undefined) => (value === null || value === undefined ? "" : String(value));

/** The site's editable details (the fields people change most), sent as changes only: a
 * field left as it was is not sent. */
export function SiteEditForm({ site, onSaved, onCancel }: { site: EditableSite; onSaved: () => void; onCancel: () => void }) {
  const initial = {
    ...Object.fromEntries(TEXT_FIELDS.map(({ key }) => [key, text(site[key])])),
    latitude: text(site.latitude),
    longitude: text(site.longitude),
  } as Record<TextKey | "latitude" | "longitude", string>;
  const [values, setValues] = useState(initial);
  const [result, update] = useMutation(UpdateSite);
  const problems = fieldProblems(result.error);
  const set = (key: keyof typeof values) => (value: string) => setValues((v) => ({ ...v, [key]: value }));

  const submit = () => {
    const input: UpdateSiteInput = { id: site.id };
    for (const { key } of TEXT_FIELDS) if (values[key] !== initial[key]) input[key] = values[key];
    for (const key of ["latitude", "longitude"] as const) {
      if (values[key] !== initial[key]) input[key] = values[key].trim() === "" ? null : Number(values[key]);
    }
    void update({ input }).then((answer) => {
      if (!answer.error) onSaved();
    });
  };

  return (
    <Form
      className="topology-edit"
      aria-labelledby="site-edit"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <h3 id="site-edit">Edit site</h3>
      {TEXT_FIELDS.map(({ key, label, type, multiline }) => (
        <FormField
          key={key}
          label={label}
          name={key}
          value={values[key]}
          onChange={set(key)}
          problem={problems[key]}
          type={type}
          multiline={multiline}
        />
      ))}
      <FormField label="Latitude" name="latitude" type="number" value={values.latitude} onChange={set("latitude")} problem={problems.latitude} />
      <FormField label="Longitude" name="longitude" type="number" value={values.longitude} onChange={set("longitude")} problem={problems.longitude} />
      <div className="topology-edit-actions">
        <button type="submit" className="primary" disabled={result.fetching}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {result.error ? <ErrorMessage error={result.error} /> : null}
    </Form>
  );
}
