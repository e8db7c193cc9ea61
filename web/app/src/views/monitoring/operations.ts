// The monitoring area's GraphQL operations (issue 14), shared by its pages and by the status
// parts that the site and service pages show.
import { graphql } from "../../gql";

export const ReportsQuery = graphql(`
  query MonitoringReports {
    monitoringProfiles(filter: { kind: REPORT }, first: 100) {
      nodes {
        id
        profileId
        name
        description
        date
      }
    }
  }
`);

export const AvailabilityOverviewQuery = graphql(`
  query MonitoringAvailabilityOverview(
    $report: String!
    $level: AvailabilityLevel!
    $from: Date!
    $to: Date!
    $first: Int
    $after: String
  ) {
    availability(report: $report, level: $level, from: $from, to: $to, granularity: CUSTOM, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        name
        parent
        start
        end
        availability
        reliability
        unknown
        downtime
      }
    }
  }
`);

export const AvailabilityItemQuery = graphql(`
  query MonitoringAvailabilityItem(
    $report: String!
    $level: AvailabilityLevel!
    $from: Date!
    $to: Date!
    $name: String!
    $granularity: AvailabilityGranularity!
    $first: Int
    $after: String
  ) {
    availability(
      report: $report
      level: $level
      from: $from
      to: $to
      name: $name
      granularity: $granularity
      first: $first
      after: $after
    ) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        name
        parent
        start
        end
        availability
        reliability
        uptime
        unknown
        downtime
      }
    }
  }
`);

export const CatalogueQuery = graphql(`
  query MonitoringCatalogue($validOn: Date) {
    monitoringProfiles(filter: { validOn: $validOn }, first: 100) {
      totalCount
      nodes {
        id
        kind
        profileId
        name
        description
        date
      }
    }
    monitoringProbes(first: 100) {
      totalCount
      nodes {
        id
        name
        version
        kind
        builtin
        command
        timeoutSeconds
        description
        date
      }
    }
    monitoringMetrics(validOn: $validOn, first: 100) {
      totalCount
      nodes {
        id
        name
        probeName
        probeVersion
        parameters
        interval
        retryInterval
        maxCheckAttempts
        description
        date
      }
    }
  }
`);

export const ProfileHistoryQuery = graphql(`
  query MonitoringProfileHistory($kind: MonitoringProfileKind!, $profileId: String!) {
    monitoringProfileHistory(kind: $kind, profileId: $profileId, first: 100) {
      nodes {
        id
        kind
        profileId
        name
        description
        date
        document
      }
    }
  }
`);

export const EndpointStatusQuery = graphql(`
  query MonitoringEndpointStatus($report: String!, $hostname: String!, $serviceType: String!) {
    endpointStatus(report: $report, hostname: $hostname, serviceType: $serviceType) {
      report
      hostname
      serviceType
      status
      inDowntime
      metrics {
        metric
        status
      }
    }
  }
`);

export const MetricStatusesQuery = graphql(`
  query MonitoringMetricStatuses($hostname: String!, $serviceType: String) {
    metricStatuses(hostname: $hostname, serviceType: $serviceType, first: 100) {
      nodes {
        hostname
        serviceType
        metric
        status
        timestamp
        since
        summary
      }
    }
  }
`);

export const AlertRuleFields = graphql(`
  fragment MonitoringAlertRuleFields on AlertRule {
    id
    name
    site
    ngi
    serviceType
    report
    onCritical
    afterFailures
    remindHours
    onRecovery
    flapChanges
    flapWindowMinutes
    email
    topic {
      project
      topic
    }
    webhookUrl
    enabled
    createdAt
  }
`);

export const AlertViewerQuery = graphql(`
  query MonitoringAlertViewer {
    viewer {
      subject
    }
  }
`);

export const MyAlertRulesQuery = graphql(`
  query MonitoringMyAlertRules($first: Int, $after: String) {
    myAlertRules(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...MonitoringAlertRuleFields
        states {
          hostname
          serviceType
          status
          failingMetrics {
            metric
            status
          }
          since
          problemSince
          notified
          reminders
          flapping
          suppressed
        }
      }
    }
  }
`);

export const CreateAlertRuleMutation = graphql(`
  mutation MonitoringCreateAlertRule($input: CreateAlertRuleInput!) {
    createAlertRule(input: $input) {
      rule {
        ...MonitoringAlertRuleFields
      }
    }
  }
`);

export const UpdateAlertRuleMutation = graphql(`
  mutation MonitoringUpdateAlertRule($input: UpdateAlertRuleInput!) {
    updateAlertRule(input: $input) {
      rule {
        ...MonitoringAlertRuleFields
      }
    }
  }
`);

export const DeleteAlertRuleMutation = graphql(`
  mutation MonitoringDeleteAlertRule($input: DeleteAlertRuleInput!) {
    deleteAlertRule(input: $input) {
      id
    }
  }
`);

export const StatusChangesSubscription = graphql(`
  subscription MonitoringStatusChanges($filter: StatusChangeFilter) {
    statusChanges(filter: $filter) {
      id
      timestamp
      hostname
      serviceType
      metric
      status
      previousStatus
      summary
      site
    }
  }
`);

export const MetricStatusChangesQuery = graphql(`
  query MonitoringMetricStatusChanges($hostname: String!, $serviceType: String!, $metric: String!, $since: DateTime) {
    metricStatusChanges(hostname: $hostname, serviceType: $serviceType, metric: $metric, since: $since, first: 100) {
      nodes {
        timestamp
        status
        previousStatus
      }
    }
  }
`);

export const GroupStatusQuery = graphql(`
  query MonitoringGroupStatus($report: String!, $level: AvailabilityLevel!, $name: String!) {
    status(report: $report, level: $level, name: $name) {
      day
      until
      status
      points {
        timestamp
        status
      }
    }
  }
`);

export const SiteStatusesQuery = graphql(`
  query MonitoringSiteStatuses($report: String!) {
    status(report: $report, level: SITE) {
      name
      status
    }
  }
`);

export const RecomputationsQuery = graphql(`
  query MonitoringRecomputations($report: String, $first: Int, $after: String) {
    viewer {
      subject
    }
    recomputations(report: $report, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        report
        requesterName
        requesterEmail
        reason
        startTime
        endTime
        exclude
        excludeMetrics {
          metric
          hostname
          service
          group
        }
        excludeMonitoringSource {
          host
          startTime
          endTime
        }
        appliedStatusChanges {
          state
          group
          service
          endpoint
          metric
          startTime
          endTime
        }
        status
        manageable
      }
    }
  }
`);

export const CreateRecomputationMutation = graphql(`
  mutation MonitoringCreateRecomputation($input: CreateRecomputationInput!) {
    createRecomputation(input: $input) {
      recomputation {
        id
      }
    }
  }
`);

export const UpdateRecomputationMutation = graphql(`
  mutation MonitoringUpdateRecomputation($input: UpdateRecomputationInput!) {
    updateRecomputation(input: $input) {
      recomputation {
        id
      }
    }
  }
`);

export const DeleteRecomputationMutation = graphql(`
  mutation MonitoringDeleteRecomputation($input: DeleteRecomputationInput!) {
    deleteRecomputation(input: $input) {
      id
    }
  }
`);

export const SetRecomputationStatusMutation = graphql(`
  mutation MonitoringSetRecomputationStatus($input: SetRecomputationStatusInput!) {
    setRecomputationStatus(input: $input) {
      recomputation {
        id
        status
      }
    }
  }
`);
