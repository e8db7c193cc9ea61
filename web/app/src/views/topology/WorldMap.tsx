// The federation map: Natural Earth countries (the bundled world-atlas package, nothing
// fetched at run time) drawn with d3-geo as SVG, one marker per site coloured by a status.ts
// colouring (live status or certification), clusters at low zoom. Zoom with the buttons, the
// keyboard (+, −, arrows, 0) or the wheel; drag to pan. Every marker is a link and every
// cluster a button, in the tab order.
import { geoPath } from "d3-geo";
import { feature, mesh } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import atlasUrl from "world-atlas/countries-110m.json?url";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from "react";
import { useNavigate } from "react-router";
import {
  MAP_HEIGHT,
  MAP_WIDTH,
  MAX_ZOOM,
  WORLD,
  cluster,
  fitPoints,
  pan,
  place,
  spread,
  worldProjection,
  zoomAt,
  zoomInto,
  type Cluster,
  type View,
} from "./geo";
import type { SiteRow } from "./sitesData";
import { markerStatus, type Colouring } from "./status";

const PROJECTION = worldProjection();
const PATH = geoPath(PROJECTION);
const SPHERE = PATH({ type: "Sphere" }) ?? "";

interface Shapes {
  countries: string;
  borders: string;
}

/** The countries, fetched once as a hashed JSON asset of this build (same origin, cached for
 * a year like the scripts): data, not JavaScript, so the first route's scripts stay small and
 * the markers, buttons and table work while it loads. */
let shapes: Promise<Shapes> | null = null;
function loadShapes(): Promise<Shapes> {
  shapes ??= fetch(atlasUrl)
    .then((response) => {
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      return response.json() as Promise<Topology<{ countries: GeometryCollection }>>;
    })
    .then((topology) => ({
      countries: PATH(feature(topology, topology.objects.countries)) ?? "",
      borders: PATH(mesh(topology, topology.objects.countries, (a, b) => a !== b)) ?? "",
    }));
  shapes.catch(() => {
    shapes = null; // a later visit tries again
  });
  return shapes;
}

function useShapes(): { shapes: Shapes | null; failed: boolean } {
  const [state, setState] = useState<{ shapes: Shapes | null; failed: boolean }>({ shapes: null, failed: false });
  useEffect(() => {
    let current = true;
    loadShapes().then(
      (loaded) => current && setState({ shapes: loaded, failed: false }),
      () => current && setState({ shapes: null, failed: true }),
    );
    return () => {
      current = false;
    };
  }, []);
  return state;
}

const siteId = (site: SiteRow) => site.id;
/** At most this zoom when showing all the sites: a lone site is not shown at street level. */
const FIT_MAX = 12;

export function WorldMap({ sites, colouring }: { sites: readonly SiteRow[]; colouring: Colouring }) {
  const navigate = useNavigate();
  const atlas = useShapes();
  const { placed } = useMemo(() => place(sites, (s) => s, PROJECTION), [sites]);
  const home = useMemo(() => fitPoints(placed, { maxK: FIT_MAX }), [placed]);
  const [view, setView] = useState<View>(home);
  useEffect(() => setView(home), [home]);
  const clusters = useMemo(() => cluster(placed, view, siteId, { margin: 12 }), [placed, view]);

  const svg = useRef<SVGSVGElement>(null);
  const elements = useRef(new Map<string, { focus: () => void }>());
  const pendingFocus = useRef<string | null>(null);
  useEffect(() => {
    const wanted = pendingFocus.current;
    if (wanted === null) return;
    pendingFocus.current = null;
    const target = clusters.find((c) => c.members.some((m) => m.item.id === wanted));
    if (target) elements.current.get(target.key)?.focus();
  }, [clusters]);

  // the wheel zooms around the pointer (a non-passive listener, so the page does not scroll)
  useEffect(() => {
    const element = svg.current;
    if (!element) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const [cx, cy] = toMap(element, event.clientX, event.clientY);
      setView((v) => zoomAt(v, event.deltaY < 0 ? 1.25 : 0.8, cx, cy));
    };
    element.addEventListener("wheel", onWheel, { passive: false });
    return () => element.removeEventListener("wheel", onWheel);
  }, []);

  const drag = useRef<{ x: number; y: number } | null>(null);

  const activate = (group: Cluster<SiteRow>) => {
    pendingFocus.current = group.members[0]?.item.id ?? null;
    setView((v) => zoomInto(v, group.members));
  };

  const onKeyDown = (event: ReactKeyboardEvent) => {
    const step = 60;
    const moves: Record<string, () => View> = {
      ArrowLeft: () => pan(view, step, 0),
      ArrowRight: () => pan(view, -step, 0),
      ArrowUp: () => pan(view, 0, step),
      ArrowDown: () => pan(view, 0, -step),
      "+": () => zoomAt(view, 2),
      "=": () => zoomAt(view, 2),
      "-": () => zoomAt(view, 0.5),
      "0": () => home,
    };
    const move = moves[event.key];
    if (move && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      setView(move());
    }
  };

  const singles = clusters.filter((c) => c.members.length === 1);
  const offsets = view.k >= MAX_ZOOM ? spread(singles) : singles.map((): [number, number] => [0, 0]);
  const offsetOf = new Map(singles.map((c, i) => [c.key, offsets[i] ?? [0, 0]]));

  return (
    <div className="topology-map">
      <div className="topology-map-tools" role="toolbar" aria-label="Map zoom">
        <button type="button" onClick={() => setView((v) => zoomAt(v, 2))} disabled={view.k >= MAX_ZOOM}>
          Zoom in
        </button>
        <button type="button" onClick={() => setView((v) => zoomAt(v, 0.5))} disabled={view.k <= 1}>
          Zoom out
        </button>
        <button type="button" onClick={() => setView(home)}>
          Show all sites
        </button>
        <button type="button" onClick={() => setView(WORLD)}>
          Whole world
        </button>
        {atlas.failed ? (
          <span className="topology-atlas-failed">The countries could not be loaded; the sites are all here and in the table.</span>
        ) : null}
        <span className="topology-zoom" aria-live="polite">
          Zoom ×{view.k < 10 ? view.k.toFixed(1) : Math.round(view.k)}
        </span>
      </div>
      <div
        className="topology-map-frame"
        role="group"
        aria-label="Federation map. Arrow keys pan, plus and minus zoom, 0 shows all sites; Tab moves between sites and clusters."
        tabIndex={0}
        onKeyDown={onKeyDown}
      >
        <svg
          ref={svg}
          viewBox={`0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`}
          className="topology-svg"
          data-zoom={view.k}
          data-atlas={atlas.shapes ? "loaded" : atlas.failed ? "failed" : "loading"}
          onPointerDown={(event) => {
            if ((event.target as Element).closest("a, [role=button]")) return;
            drag.current = { x: event.clientX, y: event.clientY };
            event.currentTarget.setPointerCapture(event.pointerId);
          }}
          onPointerMove={(event) => {
            const from = drag.current;
            const element = svg.current;
            if (!from || !element) return;
            const scale = MAP_WIDTH / element.getBoundingClientRect().width;
            drag.current = { x: event.clientX, y: event.clientY };
            setView((v) => pan(v, (event.clientX - from.x) * scale, (event.clientY - from.y) * scale));
          }}
          onPointerUp={() => {
            drag.current = null;
          }}
        >
          <g transform={`translate(${view.x} ${view.y}) scale(${view.k})`} aria-hidden="true">
            <path d={SPHERE} className="topology-sea" />
            {atlas.shapes ? (
              <>
                <path d={atlas.shapes.countries} className="topology-land" vectorEffect="non-scaling-stroke" />
                <path d={atlas.shapes.borders} className="topology-borders" vectorEffect="non-scaling-stroke" />
              </>
            ) : null}
          </g>
          {clusters.map((group) => {
            if (group.members.length === 1) {
              const site = group.members[0]!.item;
              const [dx, dy] = offsetOf.get(group.key) ?? [0, 0];
              const colour = colouring.colour(markerStatus(site, colouring));
              const label = `${site.shortName}, ${colour.label}, ${site.country.name}`;
              const href = `/sites/${encodeURIComponent(site.shortName)}`;
              return (
                <g key={group.key} transform={`translate(${group.sx + (dx ?? 0)} ${group.sy + (dy ?? 0)})`}>
                  <a
                    ref={(element) => {
                      if (element) elements.current.set(group.key, element);
                      else elements.current.delete(group.key);
                    }}
                    href={href}
                    className="topology-marker"
                    data-site={site.shortName}
                    aria-label={label}
                    onClick={(event) => {
                      event.preventDefault();
                      navigate(href);
                    }}
                  >
                    <title>{label}</title>
                    <circle r={6.5} fill={colour.fill} />
                  </a>
                </g>
              );
            }
            const names = group.members.map((m) => m.item.shortName);
            const label = `${names.length} sites (${names.slice(0, 3).join(", ")}${names.length > 3 ? "…" : ""}): zoom in`;
            return (
              <g
                key={group.key}
                ref={(element) => {
                  if (element) elements.current.set(group.key, element);
                  else elements.current.delete(group.key);
                }}
                role="button"
                tabIndex={0}
                aria-label={label}
                className="topology-cluster"
                data-count={names.length}
                transform={`translate(${group.sx} ${group.sy})`}
                onClick={() => activate(group)}
                onKeyDown={(event) => {
                  if (event.key === "Enter" || event.key === " ") {
                    event.preventDefault();
                    event.stopPropagation();
                    activate(group);
                  }
                }}
              >
                <title>{label}</title>
                <circle r={11 + Math.min(10, Math.log2(names.length) * 2.5)} />
                <text textAnchor="middle" dy="0.35em" aria-hidden="true">
                  {names.length}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
    </div>
  );
}

function toMap(element: SVGSVGElement, clientX: number, clientY: number): [number, number] {
  const rect = element.getBoundingClientRect();
  const scale = MAP_WIDTH / (rect.width || MAP_WIDTH);
  return [(clientX - rect.left) * scale, (clientY - rect.top) * ((MAP_HEIGHT / (rect.height || MAP_HEIGHT)) || scale)];
}
