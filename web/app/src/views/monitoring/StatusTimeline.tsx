import { statusClass } from "./StatusBadge";
import { daySegments, spanLabel, type StatusPointLike } from "./timeline";

const WIDTH = 960;
const HOURS = [0, 6, 12, 18, 24];

/** One item's status over a UTC day as a coloured bar (plain SVG) with the same spans listed
 * beside it in words, which is what screen readers read. */
export function StatusTimeline({
  title,
  day,
  until,
  points,
}: {
  title: string;
  day: string;
  until: string;
  points: StatusPointLike[];
}) {
  const segments = daySegments(points, day, until, WIDTH);
  return (
    <figure className="monitoring-timeline">
      <svg viewBox={`0 0 ${WIDTH} 44`} aria-hidden="true" className="monitoring-timeline-svg">
        <rect className="monitoring-timeline-track" x={0} y={4} width={WIDTH} height={20} />
        {segments.map((segment) => (
          <rect
            key={segment.from.getTime()}
            className={`monitoring-span ${statusClass(segment.status)}`}
            x={segment.x}
            y={4}
            width={Math.max(segment.width, 1)}
            height={20}
          >
            <title>{`${segment.status} ${spanLabel(segment)}`}</title>
          </rect>
        ))}
        {HOURS.map((hour) => (
          <text key={hour} x={(hour / 24) * WIDTH} y={40} textAnchor={hour === 0 ? "start" : hour === 24 ? "end" : "middle"}>
            {String(hour).padStart(2, "0")}:00
          </text>
        ))}
      </svg>
      <figcaption>
        {title}, {day} (UTC):{" "}
        {segments.length
          ? segments.map((segment, index) => (
              <span key={segment.from.getTime()}>
                {index ? "; " : ""}
                {segment.status} {spanLabel(segment)}
              </span>
            ))
          : "no status yet"}
        .
      </figcaption>
    </figure>
  );
}
