import { lazy } from "react";
import type { Area } from "../../areas";

// The messaging console: projects, topics (publish, ACL), subscriptions (pull, acknowledge,
// live messages, push, offsets, ACL). Every page loads lazily; echarts only with the project page.
export const messaging: Area = {
  routes: [
    { path: "messaging", page: lazy(() => import("./ProjectsPage")) },
    { path: "messaging/:project", page: lazy(() => import("./ProjectPage")) },
    { path: "messaging/:project/topics/:topic", page: lazy(() => import("./TopicPage")) },
    { path: "messaging/:project/subscriptions/:subscription", page: lazy(() => import("./SubscriptionPage")) },
  ],
  nav: [{ to: "/messaging", label: "Messaging" }],
};
