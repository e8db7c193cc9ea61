import { lazy } from "react";
import type { Area } from "../../areas";

// Accounting (issue 15): any metric by any two dimensions over any months, as the EGI
// accounting portal shows it, with its CSV and JSON downloads. Loads lazily (with echarts).
// The reject store for the platform's administrators at /usage/rejects. At /usage: /accounting is the server's (the portal's routes, gateway/web.py reserves it).
export const accounting: Area = {
  routes: [
    { path: "usage", page: lazy(() => import("./AccountingPage")) },
    { path: "usage/rejects", page: lazy(() => import("./RejectsPage")) },
  ],
  nav: [{ to: "/usage", label: "Accounting" }],
};
