import type { Area } from "../../areas";

export const account: Area = { routes: [], nav: [] };
