import { FieldError, Input, Label, Text, TextArea, TextField } from "react-aria-components";
import type { FieldProblem } from "../graphql/errors";

/** A labelled text input that shows the server's rule for its field (`problem`, from
 * `fieldProblems(error)`) beside it, announced to screen readers, with the rule code kept in
 * `data-rule` for tests. */
export function FormField({
  label,
  name,
  value,
  onChange,
  problem,
  description,
  type = "text",
  multiline = false,
  isRequired = false,
}: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  problem?: FieldProblem;
  description?: string;
  type?: "text" | "email" | "url" | "datetime-local" | "number" | "password";
  multiline?: boolean;
  isRequired?: boolean;
}) {
  return (
    <TextField
      className="form-field"
      name={name}
      value={value}
      onChange={onChange}
      type={type}
      isRequired={isRequired}
      isInvalid={problem !== undefined}
      validationBehavior="aria"
    >
      <Label>{label}</Label>
      {multiline ? <TextArea /> : <Input />}
      {description ? <Text slot="description">{description}</Text> : null}
      <FieldError className="field-error" data-rule={problem?.rule ?? undefined}>
        {problem?.message}
      </FieldError>
    </TextField>
  );
}
