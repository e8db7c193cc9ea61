import { lazy } from "react";
import type { Area } from "../../areas";

export const topology: Area = {
  routes: [{ path: "", page: lazy(() => import("./HomePage")) }],
  nav: [{ to: "/", label: "Map" }],
};
