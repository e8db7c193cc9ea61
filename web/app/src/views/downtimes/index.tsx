import { lazy } from "react";
import type { Area } from "../../areas";

const DowntimeFormPage = lazy(() => import("./DowntimeFormPage"));

export const downtimes: Area = {
  routes: [
    { path: "downtimes", page: lazy(() => import("./DowntimesPage")) },
    { path: "downtimes/new", page: DowntimeFormPage },
    { path: "downtimes/:id/edit", page: DowntimeFormPage },
    { path: "downtimes/:id", page: lazy(() => import("./DowntimePage")) },
    { path: "subscriptions", page: lazy(() => import("./SubscriptionsPage")) },
  ],
  nav: [
    { to: "/downtimes", label: "Downtimes" },
    { to: "/subscriptions", label: "Subscriptions" },
  ],
};
