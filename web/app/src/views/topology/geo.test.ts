import { describe, expect, it } from "vitest";
import {
  CLUSTER_RADIUS,
  MAP_HEIGHT,
  MAP_WIDTH,
  MAX_ZOOM,
  WORLD,
  clampView,
  cluster,
  fitPoints,
  pan,
  place,
  spread,
  toScreen,
  worldProjection,
  zoomAt,
  zoomInto,
  type Placed,
} from "./geo";

const projection = worldProjection();
const at = (id: string, latitude: number | null, longitude: number | null) => ({ id, latitude, longitude });

describe("place", () => {
  it("puts the prime meridian and the equator in the middle, north up and east right", () => {
    const { placed } = place([at("origin", 0, 0), at("north-east", 50, 10)], (s) => s, projection);
    const [origin, northEast] = placed;
    expect(origin!.x).toBeCloseTo(MAP_WIDTH / 2, 0);
    expect(origin!.y).toBeCloseTo(MAP_HEIGHT / 2, 0);
    expect(northEast!.x).toBeGreaterThan(origin!.x);
    expect(northEast!.y).toBeLessThan(origin!.y);
  });

  it("keeps sites without valid coordinates apart instead of placing them at 0,0", () => {
    const sites = [at("ok", 44.5, 11.3), at("none", null, null), at("half", 10, null), at("bad", 91, 0), at("nan", Number.NaN, 3)];
    const { placed, unplaced } = place(sites, (s) => s, projection);
    expect(placed.map((p) => p.item.id)).toEqual(["ok"]);
    expect(unplaced.map((s) => s.id)).toEqual(["none", "half", "bad", "nan"]);
  });

  it("keeps the whole world inside the map box", () => {
    const { placed } = place([at("a", 89, -179), at("b", -89, 179)], (s) => s, projection);
    for (const p of placed) {
      expect(p.x).toBeGreaterThanOrEqual(0);
      expect(p.x).toBeLessThanOrEqual(MAP_WIDTH);
      expect(p.y).toBeGreaterThanOrEqual(0);
      expect(p.y).toBeLessThanOrEqual(MAP_HEIGHT);
    }
  });
});

describe("view", () => {
  it("zooms around the given point, which stays where it was", () => {
    const before = { k: 2, x: -300, y: -100 };
    const after = zoomAt(before, 2, 400, 200);
    const mapPoint = [(400 - before.x) / before.k, (200 - before.y) / before.k] as const;
    expect(after.k).toBe(4);
    expect(toScreen(after, mapPoint[0], mapPoint[1])).toEqual([400, 200]);
  });

  it("stays within its zoom limits and never shows beyond the map's edges", () => {
    expect(zoomAt(WORLD, 0.5)).toEqual(WORLD);
    expect(zoomAt({ k: MAX_ZOOM, x: 0, y: 0 }, 4).k).toBe(MAX_ZOOM);
    expect(pan(WORLD, 100, 100)).toEqual(WORLD);
    const zoomed = clampView({ k: 2, x: 500, y: -5000 });
    expect(zoomed).toEqual({ k: 2, x: 0, y: -MAP_HEIGHT });
  });

  it("fits a set of points in the map with a margin", () => {
    const points = [
      { x: 400, y: 100 },
      { x: 440, y: 130 },
    ];
    const view = fitPoints(points, { padding: 40 });
    for (const p of points) {
      const [sx, sy] = toScreen(view, p.x, p.y);
      expect(sx).toBeGreaterThanOrEqual(40 - 1e-6);
      expect(sx).toBeLessThanOrEqual(MAP_WIDTH - 40 + 1e-6);
      expect(sy).toBeGreaterThanOrEqual(40 - 1e-6);
      expect(sy).toBeLessThanOrEqual(MAP_HEIGHT - 40 + 1e-6);
    }
    expect(fitPoints([])).toEqual(WORLD);
    expect(fitPoints([{ x: 10, y: 10 }], { maxK: 8 }).k).toBe(8);
  });
});

const placedAt = (coords: [string, number, number][]): Placed<{ id: string }>[] =>
  coords.map(([id, x, y]) => ({ item: { id }, x, y }));
const id = (item: { id: string }) => item.id;

describe("cluster", () => {
  const points = placedAt([
    ["a", 100, 100],
    ["b", 105, 100],
    ["c", 100, 110],
    ["far", 400, 300],
  ]);

  it("merges markers closer than the radius and leaves the others alone", () => {
    const groups = cluster(points, WORLD, id);
    expect(groups.map((g) => g.members.map((m) => m.item.id))).toEqual([["a", "b", "c"], ["far"]]);
    const [abc] = groups;
    expect(abc!.sx).toBeCloseTo(305 / 3);
    expect(abc!.sy).toBeCloseTo(310 / 3);
    expect(abc!.key).toBe("a|b|c");
  });

  it("splits clusters as the zoom grows, and never merges at the highest zoom", () => {
    const zoomed = cluster(points, { k: 8, x: -700, y: -700 }, id);
    expect(zoomed.map((g) => g.members.length)).toEqual([1, 1, 1]); // "far" is out of view
    const same = placedAt([
      ["x", 200, 200],
      ["y", 200, 200],
    ]);
    const view = fitPoints(same, { maxK: MAX_ZOOM });
    expect(view.k).toBe(MAX_ZOOM);
    expect(cluster(same, view, id)).toHaveLength(2);
    expect(cluster(same, zoomAt(view, 0.5), id)).toHaveLength(1);
  });

  it("leaves out markers outside the viewport", () => {
    const view = { k: 2, x: 0, y: 0 };
    expect(cluster(points, view, id).flatMap((g) => g.members.map((m) => m.item.id))).toEqual(["a", "b", "c"]);
  });

  it("merges transitively-near markers only within the radius of the first", () => {
    const chain = placedAt([
      ["p", 100, 100],
      ["q", 100 + CLUSTER_RADIUS * 0.9, 100],
      ["r", 100 + CLUSTER_RADIUS * 1.8, 100],
    ]);
    expect(cluster(chain, WORLD, id).map((g) => g.key)).toEqual(["p|q", "r"]);
  });
});

describe("zoomInto", () => {
  it("at least doubles the zoom and centres the cluster's members", () => {
    const members = placedAt([
      ["a", 480, 250],
      ["b", 480, 250],
    ]);
    const next = zoomInto({ k: 2, x: -480, y: -250 }, members);
    expect(next.k).toBeGreaterThanOrEqual(4);
    const [sx, sy] = toScreen(next, 480, 250);
    expect(sx).toBeCloseTo(MAP_WIDTH / 2);
    expect(sy).toBeCloseTo(MAP_HEIGHT / 2);
  });

  it("brings the members of every cluster apart after a few activations", () => {
    const members = placedAt([
      ["a", 480, 250],
      ["b", 480.5, 250.2],
    ]);
    let view = WORLD;
    for (let step = 0; step < 10 && cluster(members, view, id).length === 1; step++) view = zoomInto(view, members);
    expect(cluster(members, view, id)).toHaveLength(2);
  });
});

describe("spread", () => {
  it("sets markers on the same spot around a ring and leaves lone ones in place", () => {
    const offsets = spread([
      { sx: 10, sy: 10 },
      { sx: 10, sy: 10 },
      { sx: 100, sy: 100 },
    ]);
    expect(offsets[2]).toEqual([0, 0]);
    expect(offsets[0]).not.toEqual(offsets[1]);
    expect(Math.hypot(...offsets[0]!)).toBeCloseTo(9);
  });
});
