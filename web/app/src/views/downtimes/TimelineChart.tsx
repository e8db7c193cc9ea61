import { useNavigate } from "react-router";
import { formatMoment, formatTick, downtimePath } from "./format";
import { DEFAULT_LAYOUT, layoutTimeline, timeTicks, type TimelineItem } from "./timeline";

export interface ChartDowntime extends TimelineItem {
  severity: string;
  classification: string;
  description: string;
}

const WIDTH = 960;

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The Gantt-style timeline: a row per site, a bar per downtime from its start to its end
 * (overlapping ones on lanes), ticks and a "now" line. Each bar is a link to its downtime;
 * the table beside the chart is its text alternative. */
export function TimelineChart({
  items,
  axis,
  now,
}: {
  items: ChartDowntime[];
  axis: { from: Date; to: Date };
  now: Date;
}) {
  const navigate = useNavigate();
  const layout = layoutTimeline(items, axis, now, { width: WIDTH });
  const { stepHours } = timeTicks(axis.from, axis.to, 10);
  const label = `Downtime timeline from ${formatMoment(axis.from)} to ${formatMoment(axis.to)}: ${count(items.length - layout.hidden.length, "downtime", "downtimes")} of ${count(layout.rows.length, "site", "sites")}`;
  return (
    <figure className="downtimes-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${layout.height}`}
        role="group"
        aria-label={label}
        data-testid="downtime-timeline"
        className="downtimes-svg"
      >
        <g className="downtimes-ticks" aria-hidden="true">
          {layout.ticks.map((tick) => (
            <g key={tick.at.getTime()}>
              <line x1={tick.x} x2={tick.x} y1={layout.axisHeight - 6} y2={layout.height} />
              <text x={tick.x + 3} y={layout.axisHeight - 10}>
                {formatTick(tick.at, stepHours)}
              </text>
            </g>
          ))}
        </g>
        {layout.rows.map((row, index) => (
          <g key={row.site} className="downtimes-row">
            {index % 2 === 0 ? (
              <rect
                className="downtimes-row-band"
                x={0}
                y={row.y - 3}
                width={WIDTH}
                height={row.height + 6}
                aria-hidden="true"
              />
            ) : null}
            <text className="downtimes-site" x={4} y={row.y + 15} aria-hidden="true">
              {row.site.length > 20 ? `${row.site.slice(0, 19)}…` : row.site}
            </text>
            {row.bars.map((bar) => {
              const d = bar.item;
              const name = `${d.site}: ${d.severity} ${d.classification}, ${formatMoment(d.startsAt)} to ${formatMoment(d.endsAt)}. ${d.description}`;
              const href = downtimePath(d.id);
              return (
                <a
                  key={d.id}
                  href={href}
                  aria-label={name}
                  data-downtime={d.id}
                  className={`downtimes-bar downtimes-bar-${d.severity.toLowerCase()} downtimes-bar-${d.classification.toLowerCase()}`}
                  onClick={(event) => {
                    event.preventDefault();
                    void navigate(href);
                  }}
                >
                  <title>{name}</title>
                  <rect x={bar.x} y={row.y + bar.lane * DEFAULT_LAYOUT.laneHeight + 2} width={bar.width} height={DEFAULT_LAYOUT.laneHeight - 4} rx={3} />
                </a>
              );
            })}
          </g>
        ))}
        {layout.nowX !== null ? (
          <g className="downtimes-now" aria-hidden="true">
            <line x1={layout.nowX} x2={layout.nowX} y1={layout.axisHeight - 8} y2={layout.height} />
            <text x={layout.nowX + 3} y={layout.height - 4}>
              now
            </text>
          </g>
        ) : null}
      </svg>
      <figcaption>
        <span className="downtimes-key downtimes-key-outage">Outage</span>{" "}
        <span className="downtimes-key downtimes-key-warning">Warning</span>{" "}
        <span className="downtimes-key downtimes-key-unscheduled">dashed: unscheduled</span> · the red line is now ·
        times in your time zone.
        {layout.hidden.length
          ? ` ${count(layout.hidden.length, "downtime lies", "downtimes lie")} outside the axis; the table lists ${layout.hidden.length === 1 ? "it" : "them"}.`
          : ""}
      </figcaption>
    </figure>
  );
}
