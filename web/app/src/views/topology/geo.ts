// The federation map's arithmetic, apart from React and the DOM so it can be unit-tested:
// where a site lands on the map, how the view zooms and pans, and which markers merge into
// a cluster at the current zoom.
import { geoNaturalEarth1, type GeoProjection } from "d3-geo";

export const MAP_WIDTH = 960;
export const MAP_HEIGHT = 500;
/** Beyond this zoom markers are never merged: sites in one city stay apart as their own links. */
export const MAX_ZOOM = 128;
export const MIN_ZOOM = 1;
/** Markers closer than this (screen pixels) merge into a cluster. */
export const CLUSTER_RADIUS = 22;

/** The whole world in a MAP_WIDTH × MAP_HEIGHT box. */
export function worldProjection(width = MAP_WIDTH, height = MAP_HEIGHT): GeoProjection {
  return geoNaturalEarth1().fitSize([width, height], { type: "Sphere" });
}

export interface Placed<T> {
  item: T;
  /** Map coordinates at zoom 1 (the projection's pixels). */
  x: number;
  y: number;
}

/** Items with a valid latitude and longitude placed on the map; the others apart, so the
 * text alternative can still list them. */
export function place<T>(
  items: readonly T[],
  where: (item: T) => { latitude: number | null | undefined; longitude: number | null | undefined },
  projection: GeoProjection,
): { placed: Placed<T>[]; unplaced: T[] } {
  const placed: Placed<T>[] = [];
  const unplaced: T[] = [];
  for (const item of items) {
    const { latitude, longitude } = where(item);
    const valid =
      typeof latitude === "number" &&
      typeof longitude === "number" &&
      Number.isFinite(latitude) &&
      Number.isFinite(longitude) &&
      Math.abs(latitude) <= 90 &&
      Math.abs(longitude) <= 180;
    const point = valid ? projection([longitude, latitude]) : null;
    if (point && Number.isFinite(point[0]) && Number.isFinite(point[1])) {
      placed.push({ item, x: point[0], y: point[1] });
    } else {
      unplaced.push(item);
    }
  }
  return { placed, unplaced };
}

/** The visible part of the map: screen = k · map + (x, y). */
export interface View {
  k: number;
  x: number;
  y: number;
}

export const WORLD: View = { k: 1, x: 0, y: 0 };

export function toScreen(view: View, x: number, y: number): [number, number] {
  return [view.k * x + view.x, view.k * y + view.y];
}

/** Keep the map covering the viewport (no panning off into nothing) and k within limits. */
export function clampView(view: View, width = MAP_WIDTH, height = MAP_HEIGHT): View {
  const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k));
  const clamp = (value: number, low: number) => Math.min(0, Math.max(low, value));
  return { k, x: clamp(view.x, width - k * width), y: clamp(view.y, height - k * height) };
}

/** Zoom by `factor` keeping the screen point (cx, cy) where it is (the wheel's pointer, or
 * the centre for buttons and keys). */
export function zoomAt(
  view: View,
  factor: number,
  cx = MAP_WIDTH / 2,
  cy = MAP_HEIGHT / 2,
  width = MAP_WIDTH,
  height = MAP_HEIGHT,
): View {
  const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * factor));
  const mx = (cx - view.x) / view.k;
  const my = (cy - view.y) / view.k;
  return clampView({ k, x: cx - k * mx, y: cy - k * my }, width, height);
}

export function pan(view: View, dx: number, dy: number, width = MAP_WIDTH, height = MAP_HEIGHT): View {
  return clampView({ k: view.k, x: view.x + dx, y: view.y + dy }, width, height);
}

/** The view that shows all the points (map coordinates) with a margin, at most `maxK`. */
export function fitPoints(
  points: readonly { x: number; y: number }[],
  { width = MAP_WIDTH, height = MAP_HEIGHT, padding = 40, maxK = MAX_ZOOM, minK = MIN_ZOOM } = {},
): View {
  if (points.length === 0) return WORLD;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x);
    y0 = Math.min(y0, p.y);
    x1 = Math.max(x1, p.x);
    y1 = Math.max(y1, p.y);
  }
  const spanX = Math.max(x1 - x0, 1e-9);
  const spanY = Math.max(y1 - y0, 1e-9);
  const k = Math.min(maxK, Math.max(minK, Math.min((width - 2 * padding) / spanX, (height - 2 * padding) / spanY)));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return clampView({ k, x: width / 2 - k * cx, y: height / 2 - k * cy }, width, height);
}

export interface Cluster<T> {
  /** Stable across renders while the members stay the same. */
  key: string;
  members: Placed<T>[];
  /** Screen position: the members' mean. */
  sx: number;
  sy: number;
}

/** Markers within `radius` screen pixels of a cluster's first member join it (greedy, in the
 * given order, so the result is deterministic). At MAX_ZOOM nothing merges: every item is
 * its own marker. Only markers inside the viewport (with a margin) are returned. */
export function cluster<T>(
  placed: readonly Placed<T>[],
  view: View,
  idOf: (item: T) => string,
  { radius = CLUSTER_RADIUS, width = MAP_WIDTH, height = MAP_HEIGHT, margin = 0 } = {},
): Cluster<T>[] {
  const visible = placed
    .map((p) => ({ p, s: toScreen(view, p.x, p.y) }))
    .filter(({ s }) => s[0] >= -margin && s[0] <= width + margin && s[1] >= -margin && s[1] <= height + margin);
  const merge = view.k < MAX_ZOOM;
  // a grid of cells `radius` wide: a member's seed is in its cell or a neighbour
  const cells = new Map<string, { seed: [number, number]; members: { p: Placed<T>; s: [number, number] }[] }[]>();
  const groups: { seed: [number, number]; members: { p: Placed<T>; s: [number, number] }[] }[] = [];
  for (const entry of visible) {
    const [sx, sy] = entry.s;
    const cx = Math.floor(sx / radius);
    const cy = Math.floor(sy / radius);
    let joined = false;
    if (merge) {
      search: for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          for (const group of cells.get(`${cx + dx},${cy + dy}`) ?? []) {
            if (Math.hypot(group.seed[0] - sx, group.seed[1] - sy) < radius) {
              group.members.push(entry);
              joined = true;
              break search;
            }
          }
        }
      }
    }
    if (!joined) {
      const group = { seed: entry.s, members: [entry] };
      groups.push(group);
      const cell = `${cx},${cy}`;
      cells.set(cell, [...(cells.get(cell) ?? []), group]);
    }
  }
  return groups.map((group) => {
    const n = group.members.length;
    return {
      key: group.members.map((m) => idOf(m.p.item)).join("|"),
      members: group.members.map((m) => m.p),
      sx: group.members.reduce((sum, m) => sum + m.s[0], 0) / n,
      sy: group.members.reduce((sum, m) => sum + m.s[1], 0) / n,
    };
  });
}

/** The view after activating a cluster: its members fill the map, and the zoom at least
 * doubles, so activating a cluster always brings its members apart. */
export function zoomInto<T>(view: View, members: readonly Placed<T>[], width = MAP_WIDTH, height = MAP_HEIGHT): View {
  const fitted = fitPoints(members, { width, height, padding: 60 });
  if (fitted.k >= view.k * 2) return fitted;
  const cx = members.reduce((sum, m) => sum + m.x, 0) / Math.max(members.length, 1);
  const cy = members.reduce((sum, m) => sum + m.y, 0) / Math.max(members.length, 1);
  const k = Math.min(MAX_ZOOM, view.k * 2);
  return clampView({ k, x: width / 2 - k * cx, y: height / 2 - k * cy }, width, height);
}

/** Points that land on the same screen spot (sites sharing a building) are set around a
 * small circle so each stays visible and clickable; returns screen offsets by index. */
export function spread(points: readonly { sx: number; sy: number }[], within = 3, ring = 9): [number, number][] {
  const offsets: [number, number][] = points.map(() => [0, 0]);
  const done = new Set<number>();
  points.forEach((p, i) => {
    if (done.has(i)) return;
    const same = [i];
    for (let j = i + 1; j < points.length; j++) {
      const q = points[j]!;
      if (!done.has(j) && Math.hypot(p.sx - q.sx, p.sy - q.sy) < within) same.push(j);
    }
    if (same.length < 2) return;
    same.forEach((index, n) => {
      done.add(index);
      const angle = (2 * Math.PI * n) / same.length - Math.PI / 2;
      offsets[index] = [ring * Math.cos(angle), ring * Math.sin(angle)];
    });
  });
  return offsets;
}
