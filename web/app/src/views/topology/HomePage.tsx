import { Page } from "../../components/Page";

export default function HomePage() {
  return (
    <Page title="Federation">
      <p>The federation map comes here.</p>
    </Page>
  );
}
