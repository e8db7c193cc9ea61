import { useState, type FormEvent } from "react";
import { Button, Form } from "react-aria-components";
import type { CombinedError } from "urql";
import { FormField } from "../../components/FormField";
import { ErrorMessage } from "../../components/QueryState";
import { fieldProblems } from "../../graphql/errors";
import { parseSubjects } from "./encoding";

/** A topic's or subscription's ACL: the subjects listed, and (for those who may change it)
 * the list to edit, one subject per line, saved as a whole (the API replaces the ACL). */
export function AclEditor({
  id,
  who,
  acl,
  canEdit,
  save,
  saving,
  error,
}: {
  id: string;
  who: string;
  acl: string[];
  canEdit: boolean;
  save: (users: string[]) => Promise<boolean>;
  saving: boolean;
  error?: CombinedError;
}) {
  const [text, setText] = useState(acl.join("\n"));
  const [editing, setEditing] = useState(false);
  const problems = fieldProblems(error);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await save(parseSubjects(text))) setEditing(false);
  };
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>Access control list</h2>
      <p>The {who} allowed besides the project's administrators:</p>
      {acl.length === 0 ? (
        <p className="empty">No one.</p>
      ) : (
        <ul className="messaging-acl">
          {acl.map((subject) => (
            <li key={subject}>{subject}</li>
          ))}
        </ul>
      )}
      {canEdit && !editing ? (
        <Button
          onPress={() => {
            setText(acl.join("\n"));
            setEditing(true);
          }}
        >
          Edit the access list
        </Button>
      ) : null}
      {canEdit && editing ? (
        <Form className="messaging-form" onSubmit={submit}>
          <FormField
            label={`Allowed ${who}`}
            name="users"
            value={text}
            onChange={setText}
            multiline
            problem={problems.users}
            description="One subject per line (or separated by commas); each must be a member of the project."
          />
          {error && !problems.users ? <ErrorMessage error={error} /> : null}
          <div className="messaging-buttons">
            <Button type="submit" isDisabled={saving}>
              Save the access list
            </Button>
            <Button onPress={() => setEditing(false)}>Cancel</Button>
          </div>
        </Form>
      ) : null}
    </section>
  );
}
