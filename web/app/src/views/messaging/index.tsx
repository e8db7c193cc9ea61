import type { Area } from "../../areas";

export const messaging: Area = { routes: [], nav: [] };
