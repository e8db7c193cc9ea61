import { useState, type FormEvent } from "react";
import { Button, Form } from "react-aria-components";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery } from "urql";
import { FormField } from "../../components/FormField";
import { Page } from "../../components/Page";
import { PAGE_SIZE, Pager, useCursor } from "../../components/Pager";
import { ErrorMessage } from "../../components/QueryState";
import { graphql } from "../../gql";
import { fieldProblems } from "../../graphql/errors";
import { MessagingState, projectPath } from "./common";

const ProjectsQuery = graphql(`
  query MessagingProjectsList($first: Int, $after: String) {
    viewer {
      subject
      viewerCanCreateMessagingProject
    }
    messagingProjects(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        name
        description
        createdAt
      }
    }
  }
`);

const CreateProject = graphql(`
  mutation MessagingCreateProject($input: CreateMessagingProjectInput!) {
    createMessagingProject(input: $input) {
      project {
        id
        name
      }
    }
  }
`);

function CreateProjectForm() {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [result, create] = useMutation(CreateProject);
  const navigate = useNavigate();
  const problems = fieldProblems(result.error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create({ input: { name: name.trim(), description } });
    const created = done.data?.createMessagingProject.project;
    if (created) void navigate(projectPath(created.name));
  };

  return (
    <Form className="messaging-form" onSubmit={submit} aria-labelledby="messaging-create-project">
      <h2 id="messaging-create-project">Create a project</h2>
      <FormField label="Name" name="name" value={name} onChange={setName} problem={problems.name ?? problems.project} isRequired />
      <FormField
        label="Description"
        name="description"
        value={description}
        onChange={setDescription}
        problem={problems.description}
      />
      {result.error && Object.keys(problems).length === 0 ? <ErrorMessage error={result.error} /> : null}
      <Button type="submit" isDisabled={result.fetching || name.trim() === ""}>
        Create project
      </Button>
    </Form>
  );
}

export default function ProjectsPage() {
  const [after] = useCursor();
  const [{ data, fetching, error }] = useQuery({ query: ProjectsQuery, variables: { first: PAGE_SIZE, after } });
  const canCreate = data?.viewer?.viewerCanCreateMessagingProject === true;

  return (
    <Page title="Messaging projects">
      <MessagingState fetching={fetching} error={error} data={data} what="messaging projects">
        {(found) => (
          <>
            {found.messagingProjects.nodes.length === 0 ? (
              <p className="empty">You belong to no messaging project.</p>
            ) : (
              <table className="messaging-table">
                <caption>Your messaging projects</caption>
                <thead>
                  <tr>
                    <th scope="col">Project</th>
                    <th scope="col">Description</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {found.messagingProjects.nodes.map((project) => (
                    <tr key={project.id}>
                      <th scope="row">
                        <Link to={projectPath(project.name)}>{project.name}</Link>
                      </th>
                      <td>{project.description}</td>
                      <td>{project.createdAt.slice(0, 10)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <Pager page={found.messagingProjects} what="projects" />
            {canCreate ? <CreateProjectForm /> : null}
          </>
        )}
      </MessagingState>
    </Page>
  );
}
