"""Downtimes: declaration with GOCDB's rules, the timeline, and what follows from them."""
