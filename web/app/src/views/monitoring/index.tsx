import { lazy } from "react";
import type { Area } from "../../areas";

// Monitoring (issue 14): reports' availability and reliability, the catalogue of probes,
// metrics, profiles and reports, recomputations, and the signed-in user's alert rules. Each
// page loads lazily.
export const monitoring: Area = {
  routes: [
    { path: "monitoring", page: lazy(() => import("./CataloguePage")) },
    { path: "monitoring/profiles/:kind/:profileId", page: lazy(() => import("./ProfilePage")) },
    { path: "reports/:report", page: lazy(() => import("./AvailabilityPage")) },
    { path: "monitoring/recomputations", page: lazy(() => import("./RecomputationsPage")) },
    { path: "alerts", page: lazy(() => import("./AlertRulesPage")) },
  ],
  nav: [
    { to: "/monitoring", label: "Monitoring" },
    { to: "/alerts", label: "Alerts" },
  ],
};
