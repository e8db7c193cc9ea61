import { Link } from "react-router";
import { Page } from "./Page";

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>
        Nothing lives at this address. <Link to="/">Back to the federation map</Link>.
      </p>
    </Page>
  );
}
