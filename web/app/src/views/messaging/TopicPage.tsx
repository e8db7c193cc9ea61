import { useState, type FormEvent } from "react";
import { Button, Form, Input, Label, TextField } from "react-aria-components";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { ErrorMessage } from "../../components/QueryState";
import { graphql } from "../../gql";
import { fieldProblems } from "../../graphql/errors";
import { AclEditor } from "./AclEditor";
import { Crumbs, DeleteButton, Facts, MessagingState, projectPath, subscriptionPath, When } from "./common";
import { checkAttributes, encodeText, formatBytes, type AttributeRow } from "./encoding";

const TopicQuery = graphql(`
  query MessagingTopicPage($project: String!, $name: String!) {
    topic(project: $project, name: $name) {
      id
      name
      fullName
      createdAt
      messageCount
      bytes
      publishedAt
      nextOffset
      viewerCanPublish
      viewerCanEditAcl
      viewerCanDelete
    }
  }
`);

const TopicAdminQuery = graphql(`
  query MessagingTopicAdmin($project: String!, $name: String!) {
    topic(project: $project, name: $name) {
      id
      acl
      subscriptions {
        id
        name
      }
    }
  }
`);

const Publish = graphql(`
  mutation MessagingPublish($input: PublishInput!) {
    publish(input: $input) {
      messageIds
    }
  }
`);

const DeleteTopic = graphql(`
  mutation MessagingDeleteTopic($input: DeleteTopicInput!) {
    deleteTopic(input: $input) {
      id
    }
  }
`);

const SetTopicAcl = graphql(`
  mutation MessagingSetTopicAcl($input: SetTopicAclInput!) {
    setTopicAcl(input: $input) {
      topic {
        id
        acl
      }
    }
  }
`);

function PublishForm({ project, topic, onDone }: { project: string; topic: string; onDone: () => void }) {
  const [text, setText] = useState("");
  const [rows, setRows] = useState<AttributeRow[]>([{ key: "", value: "" }]);
  const [result, publish] = useMutation(Publish);
  const [published, setPublished] = useState<string[]>([]);
  const checked = checkAttributes(rows);
  const rowProblems = Object.keys(checked.problems).length > 0;
  const problems = fieldProblems(result.error);
  const serverProblem = Object.values(problems)[0];

  const setRow = (index: number, change: Partial<AttributeRow>) =>
    setRows(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (rowProblems) return;
    const done = await publish({
      input: {
        project,
        topic,
        messages: [
          { data: encodeText(text), attributes: checked.attributes.length > 0 ? checked.attributes : null },
        ],
      },
    });
    if (done.data) {
      setPublished(done.data.publish.messageIds);
      setText("");
      setRows([{ key: "", value: "" }]);
      onDone();
    }
  };

  return (
    <Form className="messaging-form" onSubmit={submit} aria-labelledby="messaging-publish">
      <h2 id="messaging-publish">Publish a message</h2>
      <FormField
        label="Message"
        name="data"
        value={text}
        onChange={setText}
        multiline
        description="Text, sent as UTF-8 and base64-encoded for you."
      />
      <fieldset className="messaging-attributes">
        <legend>Attributes</legend>
        {rows.map((row, index) => (
          <div className="messaging-attribute" key={index}>
            <TextField value={row.key} onChange={(key) => setRow(index, { key })} isInvalid={checked.problems[index] !== undefined}>
              <Label>Key {index + 1}</Label>
              <Input />
            </TextField>
            <TextField value={row.value} onChange={(value) => setRow(index, { value })}>
              <Label>Value {index + 1}</Label>
              <Input />
            </TextField>
            <Button
              aria-label={`Remove attribute ${index + 1}`}
              onPress={() => setRows(rows.length === 1 ? [{ key: "", value: "" }] : rows.filter((_, i) => i !== index))}
            >
              Remove
            </Button>
            {checked.problems[index] ? (
              <p className="field-error" role="alert">
                {checked.problems[index]}
              </p>
            ) : null}
          </div>
        ))}
        <Button onPress={() => setRows([...rows, { key: "", value: "" }])}>Add an attribute</Button>
      </fieldset>
      {serverProblem ? (
        <p className="field-error" role="alert" data-rule={serverProblem.rule ?? undefined}>
          {serverProblem.message} ({serverProblem.field})
        </p>
      ) : null}
      {result.error && !serverProblem ? <ErrorMessage error={result.error} /> : null}
      <Button type="submit" isDisabled={result.fetching || rowProblems}>
        Publish
      </Button>
      <p role="status" className="messaging-published">
        {published.length > 0 ? `Published: message ${published.join(", ")}.` : ""}
      </p>
    </Form>
  );
}

export default function TopicPage() {
  const { project = "", topic = "" } = useParams();
  const variables = { project, name: topic };
  const [{ data, fetching, error }, refetch] = useQuery({ query: TopicQuery, variables });
  // the ACL and the topic's subscriptions are for those who may change the ACL
  const canEditAcl = data?.topic.viewerCanEditAcl === true;
  const [admin, refetchAdmin] = useQuery({ query: TopicAdminQuery, variables, pause: !canEditAcl });
  const [aclResult, setAcl] = useMutation(SetTopicAcl);
  const [deleted, remove] = useMutation(DeleteTopic);
  const navigate = useNavigate();
  const adminTopic = canEditAcl ? admin.data?.topic : undefined;

  return (
    <Page title={`Topic ${topic}`}>
      <Crumbs project={project} here={`Topic ${topic}`} />
      <MessagingState fetching={fetching} error={error} data={data?.topic} what="topics">
        {(found) => (
          <>
            <Facts
              label="About the topic"
              items={[
                ["Full name", <code>{found.fullName}</code>],
                ["Created", <When at={found.createdAt} />],
                ["Messages published", found.messageCount],
                ["Bytes published", formatBytes(found.bytes)],
                ["Last published", <When at={found.publishedAt} />],
                ["Next offset", found.nextOffset],
              ]}
            />
            {found.viewerCanPublish ? (
              <PublishForm project={project} topic={topic} onDone={() => refetch({ requestPolicy: "network-only" })} />
            ) : (
              <p>You may read this topic but not publish to it.</p>
            )}
            {canEditAcl && admin.error ? <ErrorMessage error={admin.error} /> : null}
            {adminTopic ? (
              <>
                <AclEditor
                  id="messaging-topic-acl"
                  who="publishers"
                  acl={adminTopic.acl}
                  canEdit={canEditAcl}
                  saving={aclResult.fetching}
                  error={aclResult.error}
                  save={async (users) => {
                    const done = await setAcl({ input: { project, topic, users } });
                    if (done.data) refetchAdmin({ requestPolicy: "network-only" });
                    return Boolean(done.data) && !done.error;
                  }}
                />
                <section aria-labelledby="messaging-topic-subscriptions">
                  <h2 id="messaging-topic-subscriptions">Subscriptions to this topic</h2>
                  {adminTopic.subscriptions.length === 0 ? (
                    <p className="empty">None.</p>
                  ) : (
                    <ul>
                      {adminTopic.subscriptions.map((sub) => (
                        <li key={sub.id}>
                          <Link to={subscriptionPath(project, sub.name)}>{sub.name}</Link>
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
              </>
            ) : null}
            {found.viewerCanDelete ? (
              <section aria-labelledby="messaging-delete-topic">
                <h2 id="messaging-delete-topic">Delete the topic</h2>
                <p>Deletes its messages; its subscriptions stay, unable to pull.</p>
                <DeleteButton
                  what={`topic ${topic}`}
                  busy={deleted.fetching}
                  onConfirm={async () => {
                    const done = await remove({ input: { project, name: topic } });
                    if (done.data) void navigate(projectPath(project));
                  }}
                />
                {deleted.error ? <ErrorMessage error={deleted.error} /> : null}
              </section>
            ) : null}
          </>
        )}
      </MessagingState>
    </Page>
  );
}
