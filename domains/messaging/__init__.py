"""The messaging domain: AMS-compatible pub/sub (projects, topics, subscriptions, ACLs)."""
