import { formatPercent, layoutArChart, TARGETS, type ArPoint, type Granularity } from "./ar";

const WORDS = { availability: "Availability", reliability: "Reliability" } as const;

/** An item's availability and reliability per period as bars against the 80 % and 85 %
 * target lines: plain SVG (no style attributes, which the page's Content-Security-Policy
 * refuses). A picture of the table that follows it, which screen readers read instead. */
export function ArChart({ points, granularity, title }: { points: ArPoint[]; granularity: Granularity; title: string }) {
  const layout = layoutArChart(points, granularity);
  const below = layout.groups.filter((g) => g.bars.some((b) => b.below)).length;
  const label = `${title}: ${points.length} ${points.length === 1 ? "period" : "periods"}, ${below} below a target. The table below holds the figures.`;
  const { plot } = layout;
  return (
    <figure className="ar-chart">
      <svg viewBox={`0 0 ${layout.width} ${layout.height}`} role="img" aria-label={label} data-testid="ar-chart" className="ar-svg">
        <g aria-hidden="true">
          {layout.ticks.map((tick) => (
            <g key={tick.value} className="ar-tick">
              <line x1={plot.left} x2={plot.right} y1={tick.y} y2={tick.y} />
              <text x={plot.left - 6} y={tick.y + 4} textAnchor="end">
                {tick.value} %
              </text>
            </g>
          ))}
          {layout.groups.map((group) => (
            <g key={group.label + group.x} className="ar-group">
              {group.bars.map((bar) => (
                <rect
                  key={bar.kind}
                  className={`ar-bar ar-bar-${bar.kind}${bar.below ? " ar-below" : ""}`}
                  x={bar.x}
                  y={bar.y}
                  width={bar.width}
                  height={Math.max(bar.height, 1)}
                >
                  <title>{`${group.label}: ${WORDS[bar.kind]} ${formatPercent(bar.value)}`}</title>
                </rect>
              ))}
              {group.undefinedKinds.length === 2 ? (
                <text className="ar-undefined" x={group.x} y={plot.bottom - 4} textAnchor="middle">
                  n/a
                </text>
              ) : null}
              {group.showLabel ? (
                <text x={group.x} y={layout.height - 10} textAnchor="middle">
                  {group.label}
                </text>
              ) : null}
            </g>
          ))}
          {layout.targets.map((target) => (
            <g key={target.kind} className={`ar-target ar-target-${target.kind}`} data-target={target.value}>
              <line x1={plot.left} x2={plot.right} y1={target.y} y2={target.y} />
              <text x={plot.right - 4} y={target.kind === "reliability" ? target.y - 4 : target.y + 13} textAnchor="end">
                {target.value} % {target.kind} target
              </text>
            </g>
          ))}
        </g>
      </svg>
      <figcaption>
        <span className="ar-key ar-key-availability">Availability</span> (target {TARGETS.availability} %, dashed line) ·{" "}
        <span className="ar-key ar-key-reliability">Reliability</span> (target {TARGETS.reliability} %, dotted line) · bars
        outlined in red miss their target · days in UTC.
      </figcaption>
    </figure>
  );
}
