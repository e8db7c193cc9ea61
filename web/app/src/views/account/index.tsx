import { lazy } from "react";
import type { Area } from "../../areas";

// Your account: the roles you hold and those you may decide on, the change log, API tokens.
export const account: Area = {
  routes: [
    { path: "roles", page: lazy(() => import("./RolesPage")) },
    { path: "changes", page: lazy(() => import("./ChangesPage")) },
    { path: "tokens", page: lazy(() => import("./TokensPage")) },
  ],
  nav: [
    { to: "/roles", label: "Roles" },
    { to: "/changes", label: "Change log" },
    { to: "/tokens", label: "API tokens" },
  ],
};
