"""The monitoring domain's reads and writes, one module per area."""
