"""The accounting domain's services: loading messages into the repository (loading)."""
