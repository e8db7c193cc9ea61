// The front end's areas. Each lives in src/views/<area>/ and exports its routes and its
// navigation links from index.tsx; its pages load lazily, so the first route stays small.
import type { ComponentType, LazyExoticComponent } from "react";

export interface AreaRoute {
  /** react-router path, e.g. "sites/:shortName" ("" for the home page). */
  path: string;
  page: LazyExoticComponent<ComponentType>;
}

export interface NavLinkSpec {
  to: string;
  label: string;
}

export interface Area {
  routes: AreaRoute[];
  nav: NavLinkSpec[];
}
