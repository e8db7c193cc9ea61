// After a mutation, the cached lists it changes are fetched again. Each area adds the
// mutations it sends here: Mutation field name -> the Query fields it makes stale.
import type { UpdatesConfig } from "@urql/exchange-graphcache";

const STALE_AFTER: Record<string, string[]> = {
  createSite: ["sites"],
  // the credentials page reads them from the site
  addSiteApiCredential: ["site"],
  deleteSiteApiCredential: ["site"],
  // a site's and a service's page list their downtimes too
  declareDowntime: ["downtimes", "site", "service"],
  declareDowntimes: ["downtimes", "site", "service"],
  updateDowntime: ["downtimes", "site", "service"],
  endDowntime: ["downtimes"],
  endDowntimeForServices: ["downtimes"],
  deleteDowntime: ["downtimes", "site", "service"],
  requestRole: ["pendingRoles", "viewer"],
  grantRole: ["pendingRoles"],
  rejectRole: ["pendingRoles"],
  revokeRole: ["pendingRoles"],
  createApiToken: ["viewer"],
  revokeApiToken: ["viewer"],
  subscribeToDowntimes: ["myDowntimeSubscriptions"],
  updateDowntimeSubscription: ["myDowntimeSubscriptions"],
  deleteDowntimeSubscription: ["myDowntimeSubscriptions"],
  createAlertRule: ["myAlertRules"],
  updateAlertRule: ["myAlertRules"],
  deleteAlertRule: ["myAlertRules"],
  createRecomputation: ["recomputations"],
  updateRecomputation: ["recomputations"],
  deleteRecomputation: ["recomputations"],
  createMessagingProject: ["messagingProjects"],
  deleteMessagingProject: ["messagingProjects"],
};

export const updates: UpdatesConfig = {
  Mutation: Object.fromEntries(
    Object.entries(STALE_AFTER).map(([mutation, fields]) => [
      mutation,
      (_result, _args, cache) => {
        for (const field of fields) {
          for (const entry of cache.inspectFields("Query").filter((f) => f.fieldName === field)) {
            cache.invalidate("Query", entry.fieldName, entry.arguments ?? undefined);
          }
        }
      },
    ]),
  ),
};
