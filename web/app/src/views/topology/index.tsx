import { lazy } from "react";
import type { Area } from "../../areas";

export const topology: Area = {
  routes: [
    { path: "", page: lazy(() => import("./HomePage")) },
    { path: "sites", page: lazy(() => import("./SitesPage")) },
    { path: "sites/:shortName", page: lazy(() => import("./SitePage")) },
    { path: "sites/:shortName/credentials", page: lazy(() => import("./CredentialsPage")) },
    { path: "services/:id", page: lazy(() => import("./ServicePage")) },
    { path: "ngis/:name", page: lazy(() => import("./NgiPage")) },
  ],
  nav: [
    { to: "/", label: "Map" },
    { to: "/sites", label: "Sites" },
  ],
};
