"""The change log: the audit trail of every domain, each entry readable by whom it concerns."""
