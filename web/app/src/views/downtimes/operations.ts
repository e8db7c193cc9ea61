// The downtimes area's GraphQL operations (types generated into src/gql by graphql-codegen).
import { graphql } from "../../gql";

export const DowntimeTimelineQuery = graphql(`
  query DowntimeTimeline($filter: DowntimeFilter, $first: Int, $after: String) {
    downtimes(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        primaryKey
        severity
        classification
        description
        startsAt
        endsAt
        ongoing
        site {
          id
          shortName
          ngi {
            id
            name
          }
        }
        services {
          id
          hostName
          serviceType
        }
      }
    }
  }
`);

export const DowntimeEventsSubscription = graphql(`
  subscription DowntimeEventsLive($filter: DowntimeEventFilter) {
    downtimeEvents(filter: $filter) {
      sequence
      kind
      occurredAt
      downtimeId
      site
      ngi
      severity
      classification
      startsAt
      endsAt
      description
    }
  }
`);

export const DowntimeDetailsQuery = graphql(`
  query DowntimeDetails($id: ID!) {
    downtime(id: $id) {
      id
      primaryKey
      severity
      classification
      description
      startsAt
      endsAt
      declaredAt
      updatedAt
      announcedAt
      ongoing
      viewerCanEdit
      viewerCanEnd
      viewerCanDelete
      site {
        id
        shortName
        ngi {
          id
          name
        }
      }
      affectedServices {
        allEndpoints
        endedAt
        service {
          id
          hostName
          serviceType
        }
      }
      endpoints {
        id
        name
        interfaceName
        service {
          id
        }
      }
    }
  }
`);

export const EndDowntimeMutation = graphql(`
  mutation EndDowntimeNow($input: EndDowntimeInput!) {
    endDowntime(input: $input) {
      downtime {
        id
        endsAt
        ongoing
        updatedAt
      }
    }
  }
`);

export const EndDowntimeForServicesMutation = graphql(`
  mutation EndDowntimeForSomeServices($input: EndDowntimeForServicesInput!) {
    endDowntimeForServices(input: $input) {
      downtime {
        id
        endsAt
        ongoing
        updatedAt
        affectedServices {
          allEndpoints
          endedAt
          service {
            id
          }
        }
      }
    }
  }
`);

export const DeleteDowntimeMutation = graphql(`
  mutation DeleteDowntimeById($input: DeleteDowntimeInput!) {
    deleteDowntime(input: $input) {
      id
    }
  }
`);

export const DeclareDowntimeMutation = graphql(`
  mutation DeclareOneDowntime($input: DeclareDowntimeInput!) {
    declareDowntime(input: $input) {
      downtime {
        id
        classification
      }
    }
  }
`);

export const DeclareDowntimesMutation = graphql(`
  mutation DeclareManyDowntimes($input: DeclareDowntimesInput!) {
    declareDowntimes(input: $input) {
      downtimes {
        id
        classification
        site {
          id
          shortName
        }
      }
    }
  }
`);

export const UpdateDowntimeMutation = graphql(`
  mutation UpdateDowntimeForm($input: UpdateDowntimeInput!) {
    updateDowntime(input: $input) {
      downtime {
        id
        severity
        classification
        description
        startsAt
        endsAt
        updatedAt
        announcedAt
        services {
          id
        }
        endpoints {
          id
        }
      }
    }
  }
`);

export const SitePickerQuery = graphql(`
  query DowntimeSitePicker($first: Int, $after: String) {
    viewer {
      declarableSites(first: $first, after: $after) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          id
          shortName
          ngi {
            id
            name
          }
        }
      }
    }
  }
`);

export const SiteServicesQuery = graphql(`
  query DowntimeSiteServices($shortName: String!) {
    site(shortName: $shortName) {
      id
      shortName
      services {
        id
        hostName
        serviceType
        endpoints {
          id
          name
          interfaceName
        }
      }
    }
  }
`);

export const CreateFeedTokenMutation = graphql(`
  mutation CreateDowntimeFeedToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      secret
      apiToken {
        id
        name
        prefix
      }
    }
  }
`);

export const MyDowntimeSubscriptionsQuery = graphql(`
  query MyDowntimeSubscriptions($first: Int, $after: String) {
    viewer {
      subject
      viewerCanSubscribeToDowntimes
    }
    myDowntimeSubscriptions(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        name
        ngi
        site
        host
        serviceType
        vo
        events
        email
        topic {
          project
          topic
        }
        webhookUrl
        enabled
        createdAt
        viewerCanEdit
        viewerCanDelete
        notifications(first: 10) {
          kind
          channel
          status
          attempts
          lastError
          createdAt
          sentAt
          downtimeId
        }
      }
    }
  }
`);

export const SubscribeToDowntimesMutation = graphql(`
  mutation SubscribeToDowntimesForm($input: SubscribeToDowntimesInput!) {
    subscribeToDowntimes(input: $input) {
      subscription {
        id
        name
      }
    }
  }
`);

export const UpdateDowntimeSubscriptionMutation = graphql(`
  mutation UpdateDowntimeSubscriptionForm($input: UpdateDowntimeSubscriptionInput!) {
    updateDowntimeSubscription(input: $input) {
      subscription {
        id
        name
        ngi
        site
        host
        serviceType
        vo
        events
        email
        topic {
          project
          topic
        }
        webhookUrl
        enabled
      }
    }
  }
`);

export const DeleteDowntimeSubscriptionMutation = graphql(`
  mutation DeleteDowntimeSubscriptionById($input: DeleteDowntimeSubscriptionInput!) {
    deleteDowntimeSubscription(input: $input) {
      id
    }
  }
`);
