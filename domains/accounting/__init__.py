"""Accounting: an APEL-compatible repository — the record formats sites send (APEL's key/value
messages, CAR and StAR XML), and, in later slices, signed messages in, whole-message loads,
incremental summaries and the accounting portal's views."""
