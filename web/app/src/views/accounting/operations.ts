// The accounting area's GraphQL operations (issue 15).
import { graphql } from "../../gql";

export const AccountingPivotQuery = graphql(`
  query AccountingPivot(
    $metric: AccountingMetric!
    $rows: AccountingDimension!
    $columns: AccountingDimension!
    $from: String!
    $to: String!
    $unit: AccountingUnit!
    $filter: AccountingFilter
  ) {
    accounting(metric: $metric, rows: $rows, columns: $columns, from: $from, to: $to, unit: $unit, filter: $filter) {
      metric
      unit
      rows
      columns
      cells {
        row
        column
        value
        percent
      }
      rowTotals {
        key
        value
        percent
      }
      columnTotals {
        key
        value
        percent
      }
      total
      vos
    }
  }
`);

export const AccountingViewerQuery = graphql(`
  query AccountingViewer {
    viewer {
      subject
      isAdmin
    }
  }
`);

export const AccountingRejectsQuery = graphql(`
  query AccountingRejects($filter: AccountingRejectFilter, $first: Int, $after: String) {
    accountingRejects(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        receivedAt
        source
        sender
        messageId
        rule
        field
        reason
        signed
        size
      }
    }
  }
`);

export const ReloadAccountingRejectMutation = graphql(`
  mutation ReloadAccountingReject($input: ReloadAccountingRejectInput!) {
    reloadAccountingReject(input: $input) {
      loaded
      records
      reject {
        id
        rule
        field
        reason
      }
    }
  }
`);

export const DeleteAccountingRejectsMutation = graphql(`
  mutation DeleteAccountingRejects($input: DeleteAccountingRejectsInput!) {
    deleteAccountingRejects(input: $input) {
      ids
    }
  }
`);


export const DeleteAccountingRejectsMatchingMutation = graphql(`
  mutation DeleteAccountingRejectsMatching($input: DeleteAccountingRejectsMatchingInput!) {
    deleteAccountingRejectsMatching(input: $input) {
      count
    }
  }
`);

export const AccountingPublicationQuery = graphql(`
  query AccountingPublication($site: String!, $from: String!, $to: String!) {
    accountingPublication(site: $site, from: $from, to: $to) {
      site
      lastPublished
      lastMessage {
        messageId
        publisher
        kind
      }
      months {
        month
        jobRecords
        summaries
        normalisedSummaries
        siteSays
        inSync
        sync {
          submitHost
          siteSays
          held
          inSync
        }
      }
    }
  }
`);
