import { useQuery } from "urql";
import { QueryState } from "../../components/QueryState";
import { formatTime } from "../account/format";
import { AccountingPublicationQuery } from "./operations";
import { usagePeriod } from "./usage";
import { formatValue } from "./view";

/** A site's accounting publication over the last twelve months (issue 15, APEL-Pub and
 * APEL-Sync as a page shows them): when it last published, what is held month by month and
 * whether its sync records agree, the months that disagree marked in words as well as
 * colour. The last message's id and publisher appear only when the API gives them (to the
 * site's administrators, its NGI's managers and platform administrators). */
export function PublicationPanel({ site }: { site: string }) {
  const period = usagePeriod(new Date());
  const [{ data, fetching, error }] = useQuery({ query: AccountingPublicationQuery, variables: { site, ...period } });
  const count = (value: number | null | undefined) => formatValue(value ?? null, "NJOBS");
  return (
    <section aria-labelledby="publication-title" data-testid="publication-panel">
      <h2 id="publication-title">Accounting publication</h2>
      <QueryState what="accounting publication" fetching={fetching} error={error} data={data?.accountingPublication}>
        {(found) => {
          const disagreeing = found.months.filter((m) => !m.inSync).map((m) => m.month);
          return (
            <>
              <p data-testid="publication-last">
                {found.lastPublished
                  ? `Last published ${formatTime(found.lastPublished)}.`
                  : "No accounting message has been loaded for this site."}
              </p>
              {found.lastMessage ? (
                <p data-testid="publication-last-message">
                  The last message: <code>{found.lastMessage.messageId}</code> ({found.lastMessage.kind}) from{" "}
                  <code>{found.lastMessage.publisher}</code>.
                </p>
              ) : null}
              <p role={disagreeing.length ? "status" : undefined} data-testid="publication-sync-summary">
                {disagreeing.length
                  ? `The site's sync records disagree with the jobs held in ${disagreeing.join(", ")}.`
                  : `From ${period.from} to ${period.to} the site's sync records agree with the jobs held.`}
              </p>
              <table className="ar-table accounting-table publication-table" data-testid="publication-table">
                <caption>Records held month by month, and the site's sync records per submit host</caption>
                <thead>
                  <tr>
                    <th scope="col">Month</th>
                    <th scope="col">Job records</th>
                    <th scope="col">Summaries</th>
                    <th scope="col">Normalised summaries</th>
                    <th scope="col">Jobs the site says it sent</th>
                    <th scope="col">Sync</th>
                  </tr>
                </thead>
                <tbody>
                  {found.months.map((m) => (
                    <tr key={m.month} className={m.inSync ? undefined : "publication-disagrees"} data-in-sync={m.inSync}>
                      <th scope="row">{m.month}</th>
                      <td>{count(m.jobRecords)}</td>
                      <td>{count(m.summaries)}</td>
                      <td>{count(m.normalisedSummaries)}</td>
                      <td>{count(m.siteSays)}</td>
                      <td className="publication-sync">
                        {m.inSync ? "Agrees" : <strong>Disagrees</strong>}
                        {m.sync.length ? (
                          <ul aria-label={`Sync of ${m.month} per submit host`}>
                            {m.sync.map((line) => (
                              <li key={line.submitHost}>
                                {line.submitHost}: says {count(line.siteSays)}, held {count(line.held)}
                                {line.inSync ? "" : " (disagrees)"}
                              </li>
                            ))}
                          </ul>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </QueryState>
    </section>
  );
}
