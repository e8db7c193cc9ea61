import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { useAuth } from "../../auth/AuthContext";
import { ErrorMessage } from "../../components/QueryState";
import { graphql } from "../../gql";
import { CreateFeedTokenMutation } from "./operations";

const FeedViewerQuery = graphql(`
  query DowntimeFeedViewer {
    viewer {
      subject
    }
  }
`);

function feedUrl(format: "ics" | "rss", params: URLSearchParams, token: string | null): string {
  const copy = new URLSearchParams(params);
  if (token) {
    copy.set("mine", "true");
    copy.set("token", token);
  }
  const query = copy.toString();
  return `${window.location.origin}/feeds/downtimes.${format}${query ? `?${query}` : ""}`;
}

/** Subscribe links for calendar programs and feed readers (README "Feeds"): the public feed
 * of the downtimes shown, and the personal one (`mine=true`, the sites where you hold a role)
 * with your feed token — an API token, since a calendar program cannot sign in. A demo
 * persona's token is at hand; anyone else creates one here, shown once. */
export function FeedLinks({ params }: { params: URLSearchParams }) {
  const { actingAs } = useAuth();
  const [{ data }] = useQuery({ query: FeedViewerQuery });
  const [created, create] = useMutation(CreateFeedTokenMutation);
  const [secret, setSecret] = useState<string | null>(null);
  const token = actingAs?.token ?? secret;
  const signedIn = Boolean(data?.viewer);

  return (
    <section className="downtimes-feeds" aria-labelledby="downtimes-feeds-title">
      <h2 id="downtimes-feeds-title">Subscribe</h2>
      <p>
        These downtimes in a calendar or feed reader:{" "}
        <a href={feedUrl("ics", params, null)} data-testid="feed-ics-public">
          iCal (public)
        </a>{" "}
        ·{" "}
        <a href={feedUrl("rss", params, null)} data-testid="feed-rss-public">
          RSS (public)
        </a>
      </p>
      {signedIn ? (
        token ? (
          <p>
            Your sites only, with your personal feed token (keep these links private):{" "}
            <a href={feedUrl("ics", params, token)} data-testid="feed-ics-personal">
              iCal (mine)
            </a>{" "}
            ·{" "}
            <a href={feedUrl("rss", params, token)} data-testid="feed-rss-personal">
              RSS (mine)
            </a>
            {secret ? " — the token is shown only now; copy the links before you leave the page." : null}
          </p>
        ) : (
          <p>
            A personal feed (your sites only) needs a feed token, an API token that a calendar program can send.{" "}
            <button
              type="button"
              onClick={() =>
                void create({ input: { name: "downtime feed" } }).then((result) => {
                  if (result.data) setSecret(result.data.createApiToken.secret);
                })
              }
              disabled={created.fetching}
            >
              Create a feed token
            </button>
          </p>
        )
      ) : null}
      {created.error ? <ErrorMessage error={created.error} /> : null}
    </section>
  );
}
