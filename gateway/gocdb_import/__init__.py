"""`opsgraph import gocdb`: a running GOCDB (its PI) or a directory of saved PI answers,
loaded into opsgraph keeping GOCDB's ids and primary keys (README, "Migrating from
GOCDB"). xmlrows.py reads the XML, sources.py fetches it, runner.py loads it; the rows are
written by the domains' import functions (domains/*/service/**/imports*.py)."""

from gateway.gocdb_import.runner import STEPS, Options, Result, run_import
from gateway.gocdb_import.sources import DirectorySource, HttpSource

__all__ = ["STEPS", "DirectorySource", "HttpSource", "Options", "Result", "run_import"]
