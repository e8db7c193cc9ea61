import { useState, type FormEvent } from "react";
import {
  Button,
  Checkbox,
  CheckboxGroup,
  Form,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  Select,
  SelectValue,
} from "react-aria-components";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { ErrorMessage } from "../../components/QueryState";
import { graphql } from "../../gql";
import type { MessagingRole } from "../../gql/graphql";
import { fieldProblems } from "../../graphql/errors";
import { Crumbs, DeleteButton, Facts, MessagingState, subscriptionPath, topicPath, When } from "./common";
import { formatBytes } from "./encoding";
import { MetricsChart } from "./MetricsChart";

const ProjectQuery = graphql(`
  query MessagingProjectPage($name: String!) {
    messagingProject(name: $name) {
      id
      name
      description
      createdAt
      modifiedAt
      createdBy
      viewerCanAdminister
      viewerCanDelete
      topics(first: 50) {
        totalCount
        nodes {
          id
          name
          messageCount
          bytes
          publishedAt
        }
      }
      subscriptions(first: 50) {
        totalCount
        nodes {
          id
          name
          topicName
          messageCount
          pendingAckSince
          pushConfig {
            type
            pushEndpoint
          }
        }
      }
    }
  }
`);

const ProjectAdminQuery = graphql(`
  query MessagingProjectAdmin($name: String!) {
    messagingProject(name: $name) {
      id
      members {
        subject
        roles
      }
      metrics {
        topics
        subscriptions
        usage {
          messagesIn
          bytesIn
          messagesOut
          bytesOut
        }
        perUser {
          subject
          usage {
            messagesIn
            bytesIn
            messagesOut
            bytesOut
          }
        }
      }
    }
  }
`);

const CreateTopic = graphql(`
  mutation MessagingCreateTopic($input: CreateTopicInput!) {
    createTopic(input: $input) {
      topic {
        id
        name
      }
    }
  }
`);

const CreateSubscription = graphql(`
  mutation MessagingCreateSubscription($input: CreateSubscriptionInput!) {
    createSubscription(input: $input) {
      subscription {
        id
        name
      }
    }
  }
`);

const AddMember = graphql(`
  mutation MessagingAddMember($input: AddProjectMemberInput!) {
    addProjectMember(input: $input) {
      member {
        subject
        roles
      }
    }
  }
`);

const RemoveMember = graphql(`
  mutation MessagingRemoveMember($input: RemoveProjectMemberInput!) {
    removeProjectMember(input: $input) {
      project {
        id
      }
    }
  }
`);

const DeleteProject = graphql(`
  mutation MessagingDeleteProject($input: DeleteMessagingProjectInput!) {
    deleteMessagingProject(input: $input) {
      id
    }
  }
`);

const ROLES: { role: MessagingRole; label: string }[] = [
  { role: "PROJECT_ADMIN", label: "Project administrator" },
  { role: "PUBLISHER", label: "Publisher" },
  { role: "CONSUMER", label: "Consumer" },
];
const roleLabel = (role: MessagingRole) => ROLES.find((r) => r.role === role)?.label ?? role;

function CreateTopicForm({ project, onDone }: { project: string; onDone: () => void }) {
  const [name, setName] = useState("");
  const [result, create] = useMutation(CreateTopic);
  // the API names the topic's name "topic" (AMS's word) or "name"
  const problems = fieldProblems(result.error);
  const nameProblem = problems.name ?? problems.topic;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create({ input: { project, name: name.trim() } });
    if (done.data) {
      setName("");
      onDone();
    }
  };
  return (
    <Form className="messaging-form" onSubmit={submit} aria-labelledby="messaging-create-topic">
      <h3 id="messaging-create-topic">Create a topic</h3>
      <FormField label="Topic name" name="name" value={name} onChange={setName} problem={nameProblem} isRequired />
      {result.error && !nameProblem ? <ErrorMessage error={result.error} /> : null}
      <Button type="submit" isDisabled={result.fetching || name.trim() === ""}>
        Create topic
      </Button>
    </Form>
  );
}

function CreateSubscriptionForm({
  project,
  topics,
  onDone,
}: {
  project: string;
  topics: string[];
  onDone: () => void;
}) {
  const [name, setName] = useState("");
  const [picked, setTopic] = useState<string | null>(null);
  // the first topic until one is picked (topics may arrive after the form first rendered)
  const topic = picked !== null && topics.includes(picked) ? picked : (topics[0] ?? null);
  const [deadline, setDeadline] = useState("");
  const [result, create] = useMutation(CreateSubscription);
  const problems = fieldProblems(result.error);
  const nameProblem = problems.name ?? problems.subscription;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (topic === null) return;
    const seconds = deadline.trim() === "" ? null : Number(deadline);
    const done = await create({
      input: { project, name: name.trim(), topic, ackDeadlineSeconds: Number.isFinite(seconds) ? seconds : null },
    });
    if (done.data) {
      setName("");
      onDone();
    }
  };
  if (topics.length === 0) return <p>Create a topic before its subscriptions.</p>;
  return (
    <Form className="messaging-form" onSubmit={submit} aria-labelledby="messaging-create-subscription">
      <h3 id="messaging-create-subscription">Create a subscription</h3>
      <FormField
        label="Subscription name"
        name="name"
        value={name}
        onChange={setName}
        problem={nameProblem}
        isRequired
      />
      <Select className="form-field" selectedKey={topic} onSelectionChange={(key) => setTopic(String(key))}>
        <Label>Topic</Label>
        <Button>
          <SelectValue />
          <span aria-hidden="true"> ▾</span>
        </Button>
        <Popover>
          <ListBox>
            {topics.map((t) => (
              <ListBoxItem key={t} id={t} textValue={t}>
                {t}
              </ListBoxItem>
            ))}
          </ListBox>
        </Popover>
      </Select>
      <FormField
        label="Ack deadline (seconds)"
        name="ackDeadlineSeconds"
        type="number"
        value={deadline}
        onChange={setDeadline}
        problem={problems.ackDeadlineSeconds}
        description="0 to 600; empty means 10."
      />
      {result.error && Object.keys(problems).length === 0 ? <ErrorMessage error={result.error} /> : null}
      <Button type="submit" isDisabled={result.fetching || name.trim() === ""}>
        Create subscription
      </Button>
    </Form>
  );
}

function Members({
  project,
  members,
  onChange,
}: {
  project: string;
  members: { subject: string; roles: MessagingRole[] }[];
  onChange: () => void;
}) {
  const [subject, setSubject] = useState("");
  const [roles, setRoles] = useState<string[]>(["CONSUMER"]);
  const [added, add] = useMutation(AddMember);
  const [removed, remove] = useMutation(RemoveMember);
  const problems = fieldProblems(added.error);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await add({ input: { project, subject: subject.trim(), roles: roles as MessagingRole[] } });
    if (done.data) {
      setSubject("");
      onChange();
    }
  };
  return (
    <section aria-labelledby="messaging-members">
      <h2 id="messaging-members">Members</h2>
      {members.length === 0 ? <p className="empty">No members yet.</p> : null}
      <table className="messaging-table">
        <caption>Members of {project} and their roles</caption>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Roles</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.subject}>
              <th scope="row">{member.subject}</th>
              <td>{member.roles.map(roleLabel).join(", ")}</td>
              <td>
                <Button
                  aria-label={`Remove ${member.subject}`}
                  isDisabled={removed.fetching}
                  onPress={async () => {
                    const done = await remove({ input: { project, subject: member.subject } });
                    if (done.data) onChange();
                  }}
                >
                  Remove
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {removed.error ? <ErrorMessage error={removed.error} /> : null}
      <Form className="messaging-form" onSubmit={submit} aria-labelledby="messaging-add-member">
        <h3 id="messaging-add-member">Add a member, or change a member's roles</h3>
        <FormField
          label="Subject"
          name="subject"
          value={subject}
          onChange={setSubject}
          problem={problems.subject}
          description="The user's subject (their OIDC sub), e.g. someone@egi.eu."
          isRequired
        />
        <CheckboxGroup className="messaging-roles" value={roles} onChange={setRoles}>
          <Label>Roles</Label>
          {ROLES.map(({ role, label }) => (
            <Checkbox key={role} value={role}>
              <span className="checkbox" aria-hidden="true" />
              {label}
            </Checkbox>
          ))}
        </CheckboxGroup>
        {problems.roles ? (
          <p className="field-error" data-rule={problems.roles.rule ?? undefined}>
            {problems.roles.message}
          </p>
        ) : null}
        {added.error && Object.keys(problems).length === 0 ? <ErrorMessage error={added.error} /> : null}
        <Button type="submit" isDisabled={added.fetching || subject.trim() === "" || roles.length === 0}>
          Save member
        </Button>
      </Form>
    </section>
  );
}

interface Usage {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

function Metrics({
  metrics,
}: {
  metrics: { topics: number; subscriptions: number; usage: Usage; perUser: { subject: string; usage: Usage }[] };
}) {
  const bars = metrics.perUser.map((u) => ({
    label: u.subject,
    messagesIn: u.usage.messagesIn,
    messagesOut: u.usage.messagesOut,
  }));
  return (
    <section aria-labelledby="messaging-metrics">
      <h2 id="messaging-metrics">Metrics and usage</h2>
      <Facts
        label="Project metrics"
        items={[
          ["Topics", metrics.topics],
          ["Subscriptions", metrics.subscriptions],
          ["Messages in", metrics.usage.messagesIn],
          ["Bytes in", formatBytes(metrics.usage.bytesIn)],
          ["Messages out", metrics.usage.messagesOut],
          ["Bytes out", formatBytes(metrics.usage.bytesOut)],
        ]}
      />
      {bars.length > 0 ? (
        <>
          <MetricsChart bars={bars} title="Messages in and out per user; the table below holds the same figures" />
          <table className="messaging-table">
            <caption>Usage per user</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Messages in</th>
                <th scope="col">Bytes in</th>
                <th scope="col">Messages out</th>
                <th scope="col">Bytes out</th>
              </tr>
            </thead>
            <tbody>
              {metrics.perUser.map((u) => (
                <tr key={u.subject}>
                  <th scope="row">{u.subject}</th>
                  <td>{u.usage.messagesIn}</td>
                  <td>{formatBytes(u.usage.bytesIn)}</td>
                  <td>{u.usage.messagesOut}</td>
                  <td>{formatBytes(u.usage.bytesOut)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p className="empty">No one has published or pulled yet.</p>
      )}
    </section>
  );
}

export default function ProjectPage() {
  const { project = "" } = useParams();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProjectQuery, variables: { name: project } });
  // members and metrics are asked for only when the API says the viewer administers it
  const canAdminister = data?.messagingProject.viewerCanAdminister === true;
  const [admin, refetchAdmin] = useQuery({
    query: ProjectAdminQuery,
    variables: { name: project },
    pause: !canAdminister,
  });
  const [deleted, remove] = useMutation(DeleteProject);
  const navigate = useNavigate();
  const reload = () => {
    refetch({ requestPolicy: "network-only" });
    refetchAdmin({ requestPolicy: "network-only" });
  };

  return (
    <Page title={`Messaging project ${project}`}>
      <Crumbs project={project} />
      <MessagingState fetching={fetching} error={error} data={data?.messagingProject} what="messaging projects">
        {(found) => (
          <>
            {found.description ? <p>{found.description}</p> : null}
            <Facts
              label="About the project"
              items={[
                ["Created", <When at={found.createdAt} />],
                ["Created by", found.createdBy],
                ["Changed", <When at={found.modifiedAt} />],
              ]}
            />
            <section aria-labelledby="messaging-topics">
              <h2 id="messaging-topics">Topics</h2>
              {found.topics.nodes.length === 0 ? (
                <p className="empty">No topic you may publish to.</p>
              ) : (
                <table className="messaging-table">
                  <caption>
                    Topics ({found.topics.nodes.length} of {found.topics.totalCount})
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Topic</th>
                      <th scope="col">Messages</th>
                      <th scope="col">Bytes</th>
                      <th scope="col">Last published</th>
                    </tr>
                  </thead>
                  <tbody>
                    {found.topics.nodes.map((topic) => (
                      <tr key={topic.id}>
                        <th scope="row">
                          <Link to={topicPath(project, topic.name)}>{topic.name}</Link>
                        </th>
                        <td>{topic.messageCount}</td>
                        <td>{formatBytes(topic.bytes)}</td>
                        <td>
                          <When at={topic.publishedAt} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {canAdminister ? <CreateTopicForm project={project} onDone={reload} /> : null}
            </section>
            <section aria-labelledby="messaging-subscriptions">
              <h2 id="messaging-subscriptions">Subscriptions</h2>
              {found.subscriptions.nodes.length === 0 ? (
                <p className="empty">No subscription you may consume from.</p>
              ) : (
                <table className="messaging-table">
                  <caption>
                    Subscriptions ({found.subscriptions.nodes.length} of {found.subscriptions.totalCount})
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Subscription</th>
                      <th scope="col">Topic</th>
                      <th scope="col">Delivery</th>
                      <th scope="col">Messages out</th>
                      <th scope="col">Awaiting acknowledgement since</th>
                    </tr>
                  </thead>
                  <tbody>
                    {found.subscriptions.nodes.map((sub) => (
                      <tr key={sub.id}>
                        <th scope="row">
                          <Link to={subscriptionPath(project, sub.name)}>{sub.name}</Link>
                        </th>
                        <td>{sub.topicName}</td>
                        <td>{sub.pushConfig ? `push (${sub.pushConfig.type}) to ${sub.pushConfig.pushEndpoint}` : "pull"}</td>
                        <td>{sub.messageCount}</td>
                        <td>
                          <When at={sub.pendingAckSince} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {canAdminister ? (
                <CreateSubscriptionForm
                  project={project}
                  topics={found.topics.nodes.map((t) => t.name)}
                  onDone={reload}
                />
              ) : null}
            </section>
            {canAdminister && admin.error ? <ErrorMessage error={admin.error} /> : null}
            {canAdminister && admin.data?.messagingProject ? (
              <>
                <Members project={project} members={admin.data.messagingProject.members} onChange={reload} />
                <Metrics metrics={admin.data.messagingProject.metrics} />
              </>
            ) : null}
            {found.viewerCanDelete ? (
              <section aria-labelledby="messaging-delete-project">
                <h2 id="messaging-delete-project">Delete the project</h2>
                <p>Deletes its topics, messages and subscriptions with it.</p>
                <DeleteButton
                  what={`project ${project}`}
                  busy={deleted.fetching}
                  onConfirm={async () => {
                    const done = await remove({ input: { name: project } });
                    if (done.data) void navigate("/messaging");
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
