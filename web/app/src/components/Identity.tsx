import { Button, Label, ListBox, ListBoxItem, Popover, Select, SelectValue } from "react-aria-components";
import { useQuery } from "urql";
import { useAuth } from "../auth/AuthContext";
import { graphql } from "../gql";

const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      subject
      name
      isAdmin
    }
  }
`);

/** Who you are, and how to change it: sign in/out through /auth, or (demo servers on
 * loopback only) switch between the demo personas. */
export function Identity() {
  const { status, personas, actingAs, actAs } = useAuth();
  const [{ data }] = useQuery({ query: ViewerQuery });
  const viewer = data?.viewer;
  const here = typeof window === "undefined" ? "/" : window.location.pathname + window.location.search;

  return (
    <div className="identity">
      <span className="who" aria-live="polite" data-testid="viewer">
        {viewer ? `Signed in as ${viewer.name ?? viewer.subject}${viewer.isAdmin ? " (administrator)" : ""}` : "Not signed in"}
      </span>
      {status?.demoPersonas && personas.length > 0 ? (
        <Select
          className="persona"
          selectedKey={actingAs?.key ?? "anonymous"}
          onSelectionChange={(key) => actAs(personas.find((p) => p.key === key) ?? null)}
        >
          <Label>Demo persona</Label>
          <Button>
            {/* the chosen persona by name only; the list says what each may do */}
            <SelectValue>{({ selectedText }) => selectedText}</SelectValue>
            <span aria-hidden="true"> ▾</span>
          </Button>
          <Popover>
            <ListBox>
              <ListBoxItem id="anonymous" textValue="Anonymous">
                Anonymous
              </ListBoxItem>
              {personas.map((persona) => (
                <ListBoxItem key={persona.key} id={persona.key} textValue={persona.name}>
                  {persona.name} — {persona.description}
                </ListBoxItem>
              ))}
            </ListBox>
          </Popover>
        </Select>
      ) : null}
      {status?.loginEnabled && !actingAs ? (
        viewer ? (
          <form method="post" action="/auth/logout">
            <button type="submit">Sign out</button>
          </form>
        ) : (
          <a className="button" href={`/auth/login?next=${encodeURIComponent(here)}`}>
            Sign in
          </a>
        )
      ) : null}
    </div>
  );
}
