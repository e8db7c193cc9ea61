import { useState, type FormEvent } from "react";
import { Button, Checkbox, Form, Label, ListBox, ListBoxItem, Popover, Select, SelectValue, Switch } from "react-aria-components";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useSubscription } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { ErrorMessage } from "../../components/QueryState";
import { graphql } from "../../gql";
import { fieldProblems } from "../../graphql/errors";
import { AclEditor } from "./AclEditor";
import { Crumbs, DeleteButton, Facts, MessagingState, projectPath, topicPath, When } from "./common";
import { decodeData, formatBytes } from "./encoding";
import { acknowledgement, mergeMessages, type Message } from "./messages";

const SubscriptionQuery = graphql(`
  query MessagingSubscriptionPage($project: String!, $name: String!) {
    subscription(project: $project, name: $name) {
      id
      name
      fullName
      topicName
      ackDeadlineSeconds
      createdAt
      pendingAckSince
      messageCount
      bytes
      viewerCanPull
      viewerCanAcknowledge
      viewerCanModify
      viewerCanDelete
      offsets {
        min
        max
        current
      }
      pushConfig {
        type
        pushEndpoint
        maxMessages
        retryPolicy {
          type
          period
        }
        authorizationHeader {
          type
          value
        }
        verified
        verificationHash
        base64Decode
        mattermostUrl
        mattermostUsername
        mattermostChannel
      }
      pushDelivery {
        status
        lastError
        consecutiveFailures
        nextAttemptAt
        lastAttemptAt
        lastSuccessAt
        deliveredCount
      }
    }
  }
`);

const SubscriptionAdminQuery = graphql(`
  query MessagingSubscriptionAdmin($project: String!, $name: String!) {
    subscription(project: $project, name: $name) {
      id
      acl
    }
  }
`);

const OffsetAtQuery = graphql(`
  query MessagingOffsetAt($project: String!, $name: String!, $time: DateTime!) {
    subscription(project: $project, name: $name) {
      id
      offsetAt(time: $time)
    }
  }
`);

const Pull = graphql(`
  mutation MessagingPull($input: PullInput!) {
    pull(input: $input) {
      receivedMessages {
        ackId
        messageId
        data
        attributes {
          key
          value
        }
        publishTime
      }
    }
  }
`);

const Acknowledge = graphql(`
  mutation MessagingAcknowledge($input: AcknowledgeInput!) {
    acknowledge(input: $input) {
      subscription {
        id
        pendingAckSince
        offsets {
          min
          max
          current
        }
      }
    }
  }
`);

const ModifyOffset = graphql(`
  mutation MessagingModifyOffset($input: ModifyOffsetInput!) {
    modifyOffset(input: $input) {
      subscription {
        id
        pendingAckSince
        offsets {
          min
          max
          current
        }
      }
    }
  }
`);

const ModifyPushConfig = graphql(`
  mutation MessagingModifyPushConfig($input: ModifyPushConfigInput!) {
    modifyPushConfig(input: $input) {
      subscription {
        id
      }
    }
  }
`);

const VerifyPushEndpoint = graphql(`
  mutation MessagingVerifyPushEndpoint($input: VerifyPushEndpointInput!) {
    verifyPushEndpoint(input: $input) {
      subscription {
        id
      }
    }
  }
`);

const DeleteSubscription = graphql(`
  mutation MessagingDeleteSubscription($input: DeleteSubscriptionInput!) {
    deleteSubscription(input: $input) {
      id
    }
  }
`);

const SetSubscriptionAcl = graphql(`
  mutation MessagingSetSubscriptionAcl($input: SetSubscriptionAclInput!) {
    setSubscriptionAcl(input: $input) {
      subscription {
        id
        acl
      }
    }
  }
`);

const LiveMessages = graphql(`
  subscription MessagingLiveMessages($project: String!, $subscription: String!) {
    subscriptionMessages(project: $project, subscription: $subscription, maxMessages: 10, autoAck: false) {
      ackId
      messageId
      data
      attributes {
        key
        value
      }
      publishTime
    }
  }
`);

function Messages({
  project,
  subscription,
  canPull,
  canAcknowledge,
  onChange,
}: {
  project: string;
  subscription: string;
  canPull: boolean;
  canAcknowledge: boolean;
  onChange: () => void;
}) {
  const [maxMessages, setMaxMessages] = useState("10");
  const [messages, setMessages] = useState<Message[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [live, setLive] = useState(false);
  const [acknowledged, setAcknowledged] = useState<string>("");
  const [pulled, pull] = useMutation(Pull);
  const [acked, acknowledge] = useMutation(Acknowledge);
  const pullProblems = fieldProblems(pulled.error);

  const [stream] = useSubscription(
    { query: LiveMessages, variables: { project, subscription }, pause: !live },
    (_previous: unknown, event) => {
      setMessages((known) => mergeMessages(known, event.subscriptionMessages));
      return event;
    },
  );

  const submitPull = async (event: FormEvent) => {
    event.preventDefault();
    const done = await pull({ input: { project, subscription, maxMessages: Number(maxMessages) } });
    if (done.data) {
      setMessages((known) => mergeMessages(known, done.data?.pull.receivedMessages ?? []));
      setAcknowledged(done.data.pull.receivedMessages.length === 0 ? "No message is waiting." : "");
      onChange();
    }
  };

  const ack = async (chosen: Set<string>) => {
    const { ackIds, acknowledged, remaining } = acknowledgement(messages, chosen);
    if (ackIds.length === 0) return;
    const done = await acknowledge({ input: { project, subscription, ackIds } });
    if (!done.data) return;
    setMessages(remaining);
    setSelected(new Set());
    setAcknowledged(`Acknowledged ${acknowledged.length} message${acknowledged.length === 1 ? "" : "s"}.`);
    onChange();
  };

  return (
    <section aria-labelledby="messaging-messages">
      <h2 id="messaging-messages">Messages</h2>
      {canPull ? (
        <div className="messaging-pull">
          <Form className="messaging-form messaging-inline" onSubmit={submitPull}>
            <FormField
              label="Max messages"
              name="maxMessages"
              type="number"
              value={maxMessages}
              onChange={setMaxMessages}
              problem={pullProblems.maxMessages}
              description="1 to 10000."
            />
            {pulled.error && !pullProblems.maxMessages ? <ErrorMessage error={pulled.error} /> : null}
            <Button type="submit" isDisabled={pulled.fetching}>
              Pull
            </Button>
          </Form>
          <Switch className="messaging-live" isSelected={live} onChange={setLive}>
            <span className="indicator" aria-hidden="true" />
            Live: show messages as they are published
          </Switch>
          {live && stream.error ? <ErrorMessage error={stream.error} /> : null}
        </div>
      ) : null}
      <p role="status" className="messaging-ack-status">
        {acknowledged}
      </p>
      {messages.length === 0 ? (
        <p className="empty">No message pulled{live ? " yet; waiting for messages" : ""}.</p>
      ) : (
        <>
          <table className="messaging-table messaging-messages">
            <caption>Messages awaiting acknowledgement ({messages.length})</caption>
            <thead>
              <tr>
                {canAcknowledge ? <th scope="col">Select</th> : null}
                <th scope="col">Message</th>
                <th scope="col">Data</th>
                <th scope="col">Attributes</th>
                <th scope="col">Published</th>
              </tr>
            </thead>
            <tbody>
              {messages.map((message) => {
                const decoded = decodeData(message.data);
                return (
                  <tr key={message.messageId} data-message-id={message.messageId}>
                    {canAcknowledge ? (
                      <td>
                        <Checkbox
                          aria-label={`Select message ${message.messageId}`}
                          isSelected={selected.has(message.messageId)}
                          onChange={(on) => {
                            const next = new Set(selected);
                            if (on) next.add(message.messageId);
                            else next.delete(message.messageId);
                            setSelected(next);
                          }}
                        >
                          <span className="checkbox" aria-hidden="true" />
                        </Checkbox>
                      </td>
                    ) : null}
                    <th scope="row">{message.messageId}</th>
                    <td className="messaging-data">
                      {decoded.text !== null ? (
                        <pre>{decoded.text}</pre>
                      ) : (
                        <span>
                          binary, {formatBytes(decoded.size)}: <code>{decoded.base64}</code>
                        </span>
                      )}
                    </td>
                    <td>
                      {message.attributes.length === 0 ? (
                        "—"
                      ) : (
                        <ul className="messaging-attribute-list">
                          {message.attributes.map((a) => (
                            <li key={a.key}>
                              <code>{a.key}</code> = <code>{a.value}</code>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td>
                      <When at={message.publishTime} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {canAcknowledge ? (
            <div className="messaging-buttons">
              <Button
                isDisabled={acked.fetching || selected.size === 0}
                onPress={() => ack(selected)}
              >
                Acknowledge selected
              </Button>
              <Button isDisabled={acked.fetching} onPress={() => ack(new Set(messages.map((m) => m.messageId)))}>
                Acknowledge all
              </Button>
              <p className="messaging-note">
                Acknowledgements are cumulative: acknowledging a message also acknowledges those pulled before it.
              </p>
            </div>
          ) : null}
          {acked.error ? <ErrorMessage error={acked.error} /> : null}
        </>
      )}
    </section>
  );
}

function Offsets({
  project,
  subscription,
  offsets,
  canModify,
  onChange,
}: {
  project: string;
  subscription: string;
  offsets: { min: number; max: number; current: number } | null | undefined;
  canModify: boolean;
  onChange: () => void;
}) {
  const [offset, setOffset] = useState("");
  const [time, setTime] = useState("");
  const [askedTime, setAskedTime] = useState<string | null>(null);
  const [result, modify] = useMutation(ModifyOffset);
  const [found] = useQuery({
    query: OffsetAtQuery,
    variables: { project, name: subscription, time: askedTime ?? "" },
    pause: askedTime === null,
  });
  const problems = fieldProblems(result.error);
  const foundOffset = found.data?.subscription.offsetAt;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await modify({ input: { project, subscription, offset: Number(offset) } });
    if (done.data) {
      setOffset("");
      onChange();
    }
  };

  return (
    <section aria-labelledby="messaging-offsets">
      <h2 id="messaging-offsets">Offsets</h2>
      {offsets ? (
        <Facts
          label="Offsets"
          items={[
            ["Oldest kept", offsets.min],
            ["Next to pull", offsets.current],
            ["Next to be published", offsets.max],
          ]}
        />
      ) : (
        <p className="empty">The topic was deleted: there are no offsets.</p>
      )}
      {offsets && canModify ? (
        <>
          <Form
            className="messaging-form messaging-inline"
            onSubmit={(event) => {
              event.preventDefault();
              if (time !== "") setAskedTime(new Date(time).toISOString());
            }}
          >
            <FormField label="Find the offset at (your local time)" name="time" type="datetime-local" value={time} onChange={setTime} />
            <Button type="submit" isDisabled={time === ""}>
              Find offset
            </Button>
          </Form>
          {found.error ? <ErrorMessage error={found.error} /> : null}
          {foundOffset !== undefined && askedTime ? (
            <p role="status">
              The first message published at or after <When at={askedTime} /> has offset {foundOffset}.{" "}
              <Button onPress={() => setOffset(String(foundOffset))}>Use it</Button>
            </p>
          ) : null}
          <Form className="messaging-form messaging-inline" onSubmit={submit}>
            <FormField
              label="New offset"
              name="offset"
              type="number"
              value={offset}
              onChange={setOffset}
              problem={problems.offset}
              description={`Between ${offsets.min} and ${offsets.max}; messages awaiting acknowledgement are dropped.`}
            />
            {result.error && !problems.offset ? <ErrorMessage error={result.error} /> : null}
            <Button type="submit" isDisabled={result.fetching || offset.trim() === ""}>
              Move the offset
            </Button>
          </Form>
        </>
      ) : null}
    </section>
  );
}

type PushConfigShown = NonNullable<
  NonNullable<ReturnType<typeof useSubscriptionPage>[0]["data"]>["subscription"]["pushConfig"]
>;

function useSubscriptionPage(project: string, name: string) {
  return useQuery({ query: SubscriptionQuery, variables: { project, name } });
}

const PUSH_TYPES = [
  { id: "http_endpoint", label: "HTTP endpoint" },
  { id: "mattermost", label: "Mattermost" },
];

function PushConfigForm({
  project,
  subscription,
  current,
  onDone,
}: {
  project: string;
  subscription: string;
  current: PushConfigShown | null | undefined;
  onDone: () => void;
}) {
  const [type, setType] = useState(current?.type ?? "http_endpoint");
  const [endpoint, setEndpoint] = useState(current?.pushEndpoint ?? "");
  const [maxMessages, setMaxMessages] = useState(String(current?.maxMessages ?? 1));
  const [period, setPeriod] = useState(String(current?.retryPolicy.period ?? 3000));
  const [mattermostUrl, setMattermostUrl] = useState(current?.mattermostUrl ?? "");
  const [mattermostChannel, setMattermostChannel] = useState(current?.mattermostChannel ?? "");
  const [result, modify] = useMutation(ModifyPushConfig);
  const [verified, verify] = useMutation(VerifyPushEndpoint);
  const problems = fieldProblems(result.error);
  const problemFor = (name: string) =>
    problems[`pushConfig.${name}`] ?? Object.values(problems).find((p) => p.field.endsWith(name));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await modify({
      input: {
        project,
        subscription,
        pushConfig: {
          type,
          pushEndpoint: type === "http_endpoint" ? endpoint.trim() : null,
          maxMessages: Number(maxMessages),
          retryPolicy: { type: "linear", period: Number(period) },
          mattermostUrl: type === "mattermost" ? mattermostUrl.trim() : null,
          mattermostChannel: type === "mattermost" ? mattermostChannel.trim() : null,
        },
      },
    });
    if (done.data) onDone();
  };

  return (
    <Form className="messaging-form" onSubmit={submit} aria-labelledby="messaging-push-form">
      <h3 id="messaging-push-form">Change the push configuration</h3>
      <Select className="form-field" selectedKey={type} onSelectionChange={(key) => setType(String(key))}>
        <Label>Push to</Label>
        <Button>
          <SelectValue />
          <span aria-hidden="true"> ▾</span>
        </Button>
        <Popover>
          <ListBox items={PUSH_TYPES}>{(item) => <ListBoxItem id={item.id}>{item.label}</ListBoxItem>}</ListBox>
        </Popover>
      </Select>
      {type === "http_endpoint" ? (
        <FormField
          label="Push endpoint"
          name="pushEndpoint"
          type="url"
          value={endpoint}
          onChange={setEndpoint}
          problem={problemFor("pushEndpoint")}
          description="An https:// URL; it must be verified before anything is pushed to it."
        />
      ) : (
        <>
          <FormField label="Mattermost URL" name="mattermostUrl" type="url" value={mattermostUrl} onChange={setMattermostUrl} problem={problemFor("mattermostUrl")} />
          <FormField label="Mattermost channel" name="mattermostChannel" value={mattermostChannel} onChange={setMattermostChannel} problem={problemFor("mattermostChannel")} />
        </>
      )}
      <FormField label="Messages per push" name="maxMessages" type="number" value={maxMessages} onChange={setMaxMessages} problem={problemFor("maxMessages")} />
      <FormField label="Retry period (milliseconds)" name="period" type="number" value={period} onChange={setPeriod} problem={problemFor("period")} />
      {result.error && Object.keys(problems).length === 0 ? <ErrorMessage error={result.error} /> : null}
      {result.error && Object.keys(problems).length > 0 && !Object.values(problems).some((p) => /pushEndpoint|mattermostUrl|mattermostChannel|maxMessages|period/.test(p.field)) ? (
        <ErrorMessage error={result.error} />
      ) : null}
      <div className="messaging-buttons">
        <Button type="submit" isDisabled={result.fetching}>
          Save the push configuration
        </Button>
        {current ? (
          <Button
            isDisabled={result.fetching}
            onPress={async () => {
              const done = await modify({ input: { project, subscription, pushConfig: null } });
              if (done.data) onDone();
            }}
          >
            Make it a pull subscription
          </Button>
        ) : null}
        {current && !current.verified ? (
          <Button
            isDisabled={verified.fetching}
            onPress={async () => {
              const done = await verify({ input: { project, subscription } });
              if (done.data) onDone();
            }}
          >
            Verify the endpoint
          </Button>
        ) : null}
      </div>
      {verified.error ? <ErrorMessage error={verified.error} /> : null}
    </Form>
  );
}

export default function SubscriptionPage() {
  const { project = "", subscription = "" } = useParams();
  const variables = { project, name: subscription };
  const [{ data, fetching, error }, refetch] = useSubscriptionPage(project, subscription);
  // the ACL is asked for only when the API says the viewer may change it
  const canModify = data?.subscription.viewerCanModify === true;
  const [admin, refetchAdmin] = useQuery({ query: SubscriptionAdminQuery, variables, pause: !canModify });
  const [aclResult, setAcl] = useMutation(SetSubscriptionAcl);
  const [deleted, remove] = useMutation(DeleteSubscription);
  const navigate = useNavigate();
  const reload = () => refetch({ requestPolicy: "network-only" });

  return (
    <Page title={`Subscription ${subscription}`}>
      <Crumbs project={project} here={`Subscription ${subscription}`} />
      <MessagingState fetching={fetching} error={error} data={data?.subscription} what="subscriptions">
        {(found) => {
          const push = found.pushConfig;
          const delivery = found.pushDelivery;
          return (
            <>
              <Facts
                label="About the subscription"
                items={[
                  ["Full name", <code>{found.fullName}</code>],
                  ["Topic", <Link to={topicPath(project, found.topicName)}>{found.topicName}</Link>],
                  ["Delivery", push ? "push" : "pull"],
                  ["Ack deadline", `${found.ackDeadlineSeconds} s`],
                  ["Created", <When at={found.createdAt} />],
                  ["Awaiting acknowledgement since", <When at={found.pendingAckSince} />],
                  ["Messages out", found.messageCount],
                  ["Bytes out", formatBytes(found.bytes)],
                ]}
              />
              {push ? null : (
                <Messages
                  project={project}
                  subscription={subscription}
                  canPull={found.viewerCanPull}
                  canAcknowledge={found.viewerCanAcknowledge}
                  onChange={reload}
                />
              )}
              <Offsets
                project={project}
                subscription={subscription}
                offsets={found.offsets}
                canModify={found.viewerCanAcknowledge}
                onChange={reload}
              />
              <section aria-labelledby="messaging-push">
                <h2 id="messaging-push">Push</h2>
                {push ? (
                  <>
                    <Facts
                      label="Push configuration"
                      items={[
                        ["Type", push.type],
                        ["Endpoint", push.type === "mattermost" ? push.mattermostUrl : push.pushEndpoint],
                        ["Verified", push.verified ? "yes" : "no"],
                        ["Verification hash", push.verificationHash ? <code>{push.verificationHash}</code> : null],
                        ["Messages per push", push.maxMessages],
                        ["Retry policy", `${push.retryPolicy.type}, every ${push.retryPolicy.period} ms`],
                        ["Authorization header", push.authorizationHeader.type],
                        ["Decode base64 before pushing", push.base64Decode ? "yes" : "no"],
                      ]}
                    />
                    {delivery ? (
                      <>
                        <h3>Delivery state</h3>
                        <Facts
                          label="Push delivery state"
                          items={[
                            ["Status", <span data-testid="push-status">{delivery.status || (push.verified ? "Not attempted yet" : "Waiting for the endpoint to be verified")}</span>],
                            ["Delivered", delivery.deliveredCount],
                            ["Consecutive failures", delivery.consecutiveFailures],
                            ["Last error", delivery.lastError],
                            ["Last attempt", <When at={delivery.lastAttemptAt} />],
                            ["Last success", <When at={delivery.lastSuccessAt} />],
                            ["Next attempt", <When at={delivery.nextAttemptAt} />],
                          ]}
                        />
                      </>
                    ) : null}
                  </>
                ) : (
                  <p>A pull subscription: consumers pull its messages.</p>
                )}
                {canModify ? (
                  <PushConfigForm
                    key={JSON.stringify(push)}
                    project={project}
                    subscription={subscription}
                    current={push}
                    onDone={reload}
                  />
                ) : null}
              </section>
              {canModify && admin.error ? <ErrorMessage error={admin.error} /> : null}
              {canModify && admin.data?.subscription ? (
                <AclEditor
                  id="messaging-subscription-acl"
                  who="consumers"
                  acl={admin.data.subscription.acl}
                  canEdit={canModify}
                  saving={aclResult.fetching}
                  error={aclResult.error}
                  save={async (users) => {
                    const done = await setAcl({ input: { project, subscription, users } });
                    if (done.data) refetchAdmin({ requestPolicy: "network-only" });
                    return Boolean(done.data) && !done.error;
                  }}
                />
              ) : null}
              {found.viewerCanDelete ? (
                <section aria-labelledby="messaging-delete-subscription">
                  <h2 id="messaging-delete-subscription">Delete the subscription</h2>
                  <DeleteButton
                    what={`subscription ${subscription}`}
                    busy={deleted.fetching}
                    onConfirm={async () => {
                      const done = await remove({ input: { project, name: subscription } });
                      if (done.data) void navigate(projectPath(project));
                    }}
                  />
                  {deleted.error ? <ErrorMessage error={deleted.error} /> : null}
                </section>
              ) : null}
            </>
          );
        }}
      </MessagingState>
    </Page>
  );
}
