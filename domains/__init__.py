"""Business domains of opsgraph: models, rules, queries and GraphQL types per domain."""
