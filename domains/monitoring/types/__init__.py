"""The monitoring domain's types, one module per area."""
