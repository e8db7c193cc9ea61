// After a mutation, the cached lists it changes are fetched again. Each area adds the
// mutations it sends here: Mutation field name -> the Query fields it makes stale.
import type { UpdatesConfig } from "@urql/exchange-graphcache";

const STALE_AFTER: Record<string, string[]> = {
  createSite: ["sites"],
  declareDowntime: ["downtimes"],
  declareDowntimes: ["downtimes"],
  endDowntime: ["downtimes"],
  endDowntimeForServices: ["downtimes"],
  deleteDowntime: ["downtimes"],
  requestRole: ["pendingRoles", "viewer"],
  grantRole: ["pendingRoles"],
  rejectRole: ["pendingRoles"],
  revokeRole: ["pendingRoles"],
  createApiToken: ["viewer"],
  revokeApiToken: ["viewer"],
  subscribeToDowntimes: ["myDowntimeSubscriptions"],
  deleteDowntimeSubscription: ["myDowntimeSubscriptions"],
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
