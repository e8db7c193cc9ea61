"""The monitoring domain's queries, one module per area."""
