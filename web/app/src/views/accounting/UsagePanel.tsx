import { Link } from "react-router";
import { useQuery } from "urql";
import { QueryState } from "../../components/QueryState";
import { graphql } from "../../gql";
import { usageLink, usageMonths, usagePeriod, type UsageOf } from "./usage";
import { formatValue } from "./view";

graphql(`
  fragment UsageFigures on AccountingUsage {
    total
    parts {
      key
      value
    }
  }
`);

const SiteUsageQuery = graphql(`
  query SiteUsage($name: String!, $from: String!, $to: String!) {
    site(shortName: $name) {
      id
      cpu: usage(from: $from, to: $to, metric: NORMCPU, unit: HOUR, by: MONTH) {
        ...UsageFigures
      }
      jobs: usage(from: $from, to: $to, metric: NJOBS, by: MONTH) {
        ...UsageFigures
      }
    }
  }
`);

const NgiUsageQuery = graphql(`
  query NgiUsage($name: String!, $from: String!, $to: String!) {
    ngi(name: $name) {
      id
      cpu: usage(from: $from, to: $to, metric: NORMCPU, unit: HOUR, by: MONTH) {
        ...UsageFigures
      }
      jobs: usage(from: $from, to: $to, metric: NJOBS, by: MONTH) {
        ...UsageFigures
      }
    }
  }
`);

/** A site's or an NGI's usage over the last twelve months (the grid jobs' summaries, public
 * aggregates): normalised CPU and jobs month by month, and a link to the accounting page's
 * view of it. Asked apart from the page's own query, so the page does not wait for it. */
export function UsagePanel({ of, name }: { of: UsageOf; name: string }) {
  const period = usagePeriod(new Date());
  const variables = { name, ...period };
  const [site] = useQuery({ query: SiteUsageQuery, variables, pause: of !== "site" });
  const [ngi] = useQuery({ query: NgiUsageQuery, variables, pause: of !== "ngi" });
  const { fetching, error } = of === "site" ? site : ngi;
  const usage = of === "site" ? site.data?.site : ngi.data?.ngi;
  return (
    <section aria-labelledby="usage-title" data-testid="usage-panel">
      <h2 id="usage-title">Usage</h2>
      <QueryState
        what="usage"
        fetching={fetching}
        error={error}
        data={usage}
        isEmpty={(found) => !found.jobs.total && !found.cpu.total}
        empty={`No usage recorded from ${period.from} to ${period.to}.`}
      >
        {(found) => {
          const months = usageMonths(period, found.cpu.parts, found.jobs.parts);
          return (
            <>
              <p>
                From {period.from} to {period.to}:{" "}
                <strong data-testid="usage-cpu-total">{formatValue(found.cpu.total ?? 0, "NORMCPU")}</strong> hours of
                normalised CPU time (HS06) in <strong data-testid="usage-jobs-total">{formatValue(found.jobs.total ?? 0, "NJOBS")}</strong>{" "}
                grid jobs.
              </p>
              <table className="ar-table accounting-table usage-table" data-testid="usage-table">
                <caption>Month by month (by the month each job ended)</caption>
                <thead>
                  <tr>
                    <th scope="col">Month</th>
                    <th scope="col">Normalised CPU (HS06 hours)</th>
                    <th scope="col">Jobs</th>
                  </tr>
                </thead>
                <tbody>
                  {months.map((m) => (
                    <tr key={m.month}>
                      <th scope="row">{m.month}</th>
                      <td>{formatValue(m.cpu, "NORMCPU")}</td>
                      <td>{formatValue(m.jobs, "NJOBS")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </QueryState>
      <p>
        <Link to={usageLink(of, name, new Date())}>
          In the accounting views{of === "site" ? ", by VO" : ", by site"}
        </Link>
      </p>
    </section>
  );
}
