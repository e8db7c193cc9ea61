"""The monitoring domain's mutations, one module per area."""
