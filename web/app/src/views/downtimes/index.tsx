import type { Area } from "../../areas";

export const downtimes: Area = { routes: [], nav: [] };
